"""The community home feed at scale, on PostgreSQL + Redis, beside the trivial endpoint.

A fresh database gets 2,000 authors and 100,000 posts spread over 60 days in one public space;
one member follows 500 of the authors. `jangteo run --workers 2` then serves, and wrk measures
on loopback, each beside `/healthz` in the same run: the member's following feed, the latest
feed and the trending feed (first pages), at light load (4 connections) and under load (32).
Target: following feed p99 under 50 ms. Results go to bench/results/home_feed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import random
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.run_all import ROOT, sign_up
from bench.run_all import wrk as wrk_run
from bench.serve import BenchBackend

AUTHORS = 2_000
POSTS = 100_000
FOLLOWED = 500
TARGET_P99_MS = 50.0


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 for a past moment, so that the seeded posts sort by time like real ones."""
    ms = int(moment.timestamp() * 1000)
    rand = random.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    return uuid.UUID(int=value)


async def seed(dsn: str, viewer_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        authors = [uuid7_at(now - timedelta(days=90, seconds=n)) for n in range(AUTHORS)]
        await conn.copy_records_to_table(
            "members",
            columns=[
                "id",
                "email",
                "nickname",
                "nickname_key",
                "password_hash",
                "status",
                "mfa_enabled",
                "created_at",
                "updated_at",
            ],
            records=[
                (
                    a,
                    f"author{n}@bench.jangteo.kr",
                    f"작가{n}",
                    f"작가{n}",
                    "!",
                    "active",
                    False,
                    now,
                    now,
                )
                for n, a in enumerate(authors)
            ],
        )
        space_id, board_id = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO community_spaces (id, slug, name, description, visibility, join_policy,"
            " owner_id, member_count, status, created_at, updated_at) VALUES"
            " ($1, 'styling', '스타일링', '', 'public', 'open', $2, 1, 'active', $3, $3)",
            space_id,
            authors[0],
            now,
        )
        await conn.execute(
            "INSERT INTO community_boards (id, space_id, slug, name, description, anonymous,"
            " position, status, created_at) VALUES ($1, $2, 'free', '자유', '', false, 0,"
            " 'active', $3)",
            board_id,
            space_id,
            now,
        )
        records = []
        for n in range(POSTS):
            at = now - timedelta(seconds=random.uniform(0, 60 * 24 * 3600))
            records.append(
                (
                    uuid7_at(at),
                    space_id,
                    board_id,
                    random.choice(authors),
                    "text",
                    "",
                    f"오늘의 코디 {n} #데일리룩",
                    json.dumps(["데일리룩"]),
                    "published",
                    random.randint(0, 5),
                    random.randint(0, 30),
                    0,
                    at,
                    at,
                )
            )
        await conn.copy_records_to_table(
            "community_posts",
            columns=[
                "id",
                "space_id",
                "board_id",
                "author_id",
                "kind",
                "title",
                "body",
                "hashtags",
                "status",
                "comment_count",
                "like_count",
                "reaction_count",
                "created_at",
                "updated_at",
            ],
            records=records,
        )
        await conn.copy_records_to_table(
            "community_follows",
            columns=["id", "follower_id", "target_type", "target_id", "created_at"],
            records=[
                (uuid.uuid4(), viewer_id, "member", a, now)
                for a in random.sample(authors, FOLLOWED)
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def measure(base: str, headers: dict[str, str], seconds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for connections in (4, 32):
        row: dict[str, Any] = {}
        for label, path, auth in [
            ("trivial", "/healthz", False),
            ("following", "/api/v1/feed?mode=following", True),
            ("latest", "/api/v1/feed?mode=latest", True),
            ("trending", "/api/v1/feed?mode=trending", True),
        ]:
            extra = headers if auth else {}
            wrk_run(base + path, 1, connections, extra)  # warm-up
            row[label] = wrk_run(base + path, seconds, connections, extra)
        for label in ("following", "latest", "trending"):
            row[label]["ratio"] = round(row[label]["rps"] / row["trivial"]["rps"], 3)
        results[f"c{connections}"] = row
    return results


def run(seconds: int) -> dict[str, Any]:
    with BenchBackend("pg") as backend:
        base = backend.serve()
        assert backend.dsn is not None

        async def viewer() -> tuple[dict[str, str], uuid.UUID]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                headers = await sign_up(client)
                me = (await client.get("/api/v1/me", headers=headers)).json()
                return headers, uuid.UUID(me["id"])

        headers, viewer_id = asyncio.run(viewer())
        started = time.monotonic()
        asyncio.run(seed(backend.dsn, viewer_id))
        seeded_s = round(time.monotonic() - started, 1)
        first = httpx.get(base + "/api/v1/feed?mode=following", headers=headers).json()
        assert len(first["items"]) == 20 and first["next_cursor"], "the feed is empty"
        return {"seed_seconds": seeded_s, **measure(base, headers, seconds)}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Machine: {report['machine']}; {report['when']}; PostgreSQL + Redis, "
        f"{AUTHORS:,} authors, {POSTS:,} posts, the member follows {FOLLOWED}; wrk -t2, "
        f"{report['seconds']} s each, `jangteo run --workers 2`.",
        "",
        "| connections | /healthz req/s, p50 / p99 | following feed | latest feed "
        "| trending feed |",
        "|---|---|---|---|---|",
    ]
    for key in ("c4", "c32"):
        row = report["results"][key]
        cells = [
            f"{row['trivial']['rps']:.0f}, {row['trivial']['p50_ms']} / "
            f"{row['trivial']['p99_ms']} ms"
        ]
        for label in ("following", "latest", "trending"):
            r = row[label]
            cells.append(f"{r['rps']:.0f} ({r['ratio']:.0%}), {r['p50_ms']} / {r['p99_ms']} ms")
        lines.append(f"| {key[1:]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    report = {
        "machine": f"{host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}",
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": args.seconds,
        "results": run(args.seconds),
    }
    out = ROOT / "bench" / "results" / "home_feed.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(markdown(report))
    p99 = report["results"]["c4"]["following"]["p99_ms"]
    print(f"following feed p99 at 4 connections: {p99} ms (target {TARGET_P99_MS} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
