"""Share-link visits under load and the attribution lookup at order placement, on PostgreSQL +
Redis, beside the trivial endpoint.

1. Visits: a migrated database with the demo shop, `jangteo run --workers 2`, a member's share
   link to a product; wrk follows `/s/{code}` (no redirects followed, every request a new
   browser) for 10 s with 32 connections, then `/healthz` for the same time. Once the drain has
   emptied the intake, the stored visits are counted: every redirect a client received must be
   there (a few more may be stored: requests in flight when wrk stopped). Target: 1,000
   visits/s sustained, none lost.
2. Attribution lookup: 200,000 touches of 2,000 products by 20,000 members over 2 days are
   loaded; the lookup of the buyer's last touches of an order's 3 products
   (`rewards.service.last_touches`, one statement) and the whole attribution of a 3-line order
   are timed in-process, 2,000 times each,
   beside `SELECT 1` on the same connection pool. Target: under 5 ms p99 added at placement.
Results go to bench/results/share_visits.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import random
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text

from bench.run_all import ROOT, sign_up
from bench.run_all import wrk as wrk_run
from bench.serve import BenchBackend

TARGET_RPS = 1000.0
TARGET_P99_MS = 5.0
TOUCHES, PRODUCTS, MEMBERS = 200_000, 2_000, 20_000


async def _make_link(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        headers = await sign_up(client)
        product = (await client.get("/api/v1/products?limit=1")).json()["items"][0]["id"]
        link = await client.post(
            "/api/v1/share-links",
            json={"target_type": "product", "target_id": product, "channel": "kakaotalk"},
            headers=headers,
        )
        link.raise_for_status()
        return str(link.json()["code"])


async def _stored(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM rewards_share_visits"))
    finally:
        await conn.close()


def visits(backend: BenchBackend, seconds: int, connections: int) -> dict[str, Any]:
    assert backend.dsn is not None
    backend.command("seed-demo")
    base = backend.serve()
    code = asyncio.run(_make_link(base))
    wrk_run(base + "/healthz", 1, connections)  # warm-up of the processes
    load = wrk_run(f"{base}/s/{code}", seconds, connections)
    trivial = wrk_run(base + "/healthz", seconds, connections)
    # the drain runs every second on the servers' background loops: wait until it is done
    deadline, stored, previous = time.monotonic() + 60, -1, -2
    while time.monotonic() < deadline and stored != previous:
        previous = stored
        time.sleep(2)
        stored = asyncio.run(_stored(backend.dsn))
    return {
        "visits": {**load, "ratio": round(load["rps"] / trivial["rps"], 3)},
        "trivial": trivial,
        "redirects_received": load["requests"] - load["errors"],
        "visits_stored": stored,
        "lost": max(0, load["requests"] - load["errors"] - stored),
    }


async def _load_touches(dsn: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        products = [uuid.uuid4() for _ in range(PRODUCTS)]
        members = [uuid.uuid4() for _ in range(MEMBERS)]
        authors = members[:500]
        await conn.copy_records_to_table(
            "rewards_touches",
            columns=[
                "id",
                "member_id",
                "visitor_id",
                "product_id",
                "author_id",
                "source_type",
                "source_id",
                "touched_at",
            ],
            records=[
                (
                    uuid.uuid4(),
                    random.choice(members),
                    None,
                    random.choice(products),
                    random.choice(authors),
                    "post",
                    uuid.uuid4(),
                    now - timedelta(seconds=random.randint(0, 2 * 86400)),
                )
                for _ in range(TOUCHES)
            ],
        )
        await conn.execute("ANALYZE rewards_touches")
        return members, products
    finally:
        await conn.close()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
    }


async def _time_lookups(backend: BenchBackend, rounds: int) -> dict[str, Any]:
    from jangteo.bootstrap import build_platform
    from jangteo.rewards import creators, service
    from jangteo.settings import Settings

    assert backend.dsn is not None
    members, products = await _load_touches(backend.dsn)
    settings = Settings(
        database_url=backend.env["JANGTEO_DATABASE_URL"],
        redis_url=backend.env["JANGTEO_REDIS_URL"],
        redis_prefix=backend.env["JANGTEO_REDIS_PREFIX"],
        var_dir=backend.workdir,
        secret_key=backend.env["JANGTEO_SECRET_KEY"],
    )
    platform = build_platform(settings)
    rules = service.Rules(service.RewardRules(), creators.CreatorRules())
    now = datetime.now(UTC)
    since = now - timedelta(minutes=rules.reward.window_minutes)
    trivial: list[float] = []
    lookup: list[float] = []
    order: list[float] = []
    try:
        for _ in range(rounds):
            buyer = random.choice(members)
            async with platform.db.read() as session:
                started = time.perf_counter()
                await session.execute(text("SELECT 1"))
                trivial.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await service.last_touches(
                    session, buyer, random.sample(products, 3), since=since, until=now
                )
                lookup.append((time.perf_counter() - started) * 1000)
            payload = {
                "order_id": str(uuid.uuid4()),
                "number": "BENCH",
                "member_id": str(buyer),
                "placed_at": now.isoformat(),
                "lines": [
                    {
                        "product_id": str(random.choice(products)),
                        "variant_id": str(uuid.uuid4()),
                        "category_id": None,
                        "quantity": 1,
                        "unit_price": 39000,
                        "line_total": 39000,
                    }
                    for _ in range(3)
                ],
            }
            async with platform.db.read() as session:
                started = time.perf_counter()
                await service.attribute_order(session, platform.clock, payload, rules)
                order.append((time.perf_counter() - started) * 1000)
                await session.rollback()
    finally:
        await platform.cache.close()
        await platform.pubsub.close()
        await platform.intake.close()
        await platform.db.dispose()
    return {
        "touches": TOUCHES,
        "rounds": rounds,
        "trivial_select": _percentiles(trivial),
        "last_touch": _percentiles(lookup),
        "attribute_3_lines": _percentiles(order),
    }


def markdown(report: dict[str, Any]) -> str:
    v, a = report["visits"], report["lookup"]
    return "\n".join(
        [
            f"Machine: {report['machine']}; {report['when']}; PostgreSQL + Redis, "
            f"`jangteo run --workers 2`, wrk -t2 -c{report['connections']}, "
            f"{report['seconds']} s.",
            "",
            "| figure | result | reference in the same run |",
            "|---|---|---|",
            f"| share-link visits/s (`/s/{{code}}`) | {v['visits']['rps']:.0f} "
            f"({v['visits']['ratio']:.0%}), p50 {v['visits']['p50_ms']} / p99 "
            f"{v['visits']['p99_ms']} ms | /healthz {v['trivial']['rps']:.0f} req/s |",
            f"| visits stored / redirects received | {v['visits_stored']:,} / "
            f"{v['redirects_received']:,} (lost: {v['lost']}) | |",
            f"| last touches of a 3-line order's products, {a['touches']:,} touches | p50 "
            f"{a['last_touch']['p50_ms']} / p99 {a['last_touch']['p99_ms']} ms | `SELECT 1` p50 "
            f"{a['trivial_select']['p50_ms']} / p99 {a['trivial_select']['p99_ms']} ms |",
            f"| attribution of a 3-line order | p50 {a['attribute_3_lines']['p50_ms']} / p99 "
            f"{a['attribute_3_lines']['p99_ms']} ms | |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    with BenchBackend("pg") as backend:
        visit_figures = visits(backend, args.seconds, args.connections)
        backend.stop_servers()
        lookup = asyncio.run(_time_lookups(backend, args.rounds))
    report = {
        "machine": f"{host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}",
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": args.seconds,
        "connections": args.connections,
        "visits": visit_figures,
        "lookup": lookup,
    }
    out = ROOT / "bench" / "results" / "share_visits.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(markdown(report))
    rps = visit_figures["visits"]["rps"]
    p99 = lookup["attribute_3_lines"]["p99_ms"]
    print(
        f"visits/s {rps:.0f} (target {TARGET_RPS:.0f}), lost {visit_figures['lost']}; "
        f"attribution p99 {p99} ms (target < {TARGET_P99_MS} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
