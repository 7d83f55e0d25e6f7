"""Benchmarks against a running server; every figure beside the same server's trivial endpoint.

For each backend (embedded SQLite; PostgreSQL + Redis) this migrates a fresh database, loads the
demo shop, starts `jangteo run --workers 2`, and measures on loopback:
- requests/s and p99 of /healthz (the reference), product list, product detail, Korean search,
  with wrk (bounded: a few seconds each);
- a full checkout (cart → order → dummy payment) p50/p99 with one client, sequentially;
- order placements/s with 16 concurrent clients for a few seconds.
Results go to bench/results/latest.json and a Markdown table on stdout for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("JANGTEO_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("JANGTEO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str] | None = None
) -> dict[str, float]:
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def percentile(name: str) -> float:
        found = re.search(name + r"%\s+([\d.]+)(us|ms|s)", out)
        return round(float(found.group(1)) * scale[found.group(2)], 2) if found else -1.0

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    return {
        "requests": int(done.group(1)) if done else 0,
        "rps": round(rps, 1),
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def wait_ready(base: str, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


async def sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    password = "bench-password-42"
    response = await client.post(
        "/api/v1/auth/signup",
        json={"email": email, "password": password, "nickname": "벤치" + uuid.uuid4().hex[:6]},
    )
    response.raise_for_status()
    token = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    token.raise_for_status()
    return {"Authorization": "Bearer " + token.json()["access_token"]}


async def in_stock_variants(client: httpx.AsyncClient, count: int) -> list[str]:
    found: list[str] = []
    cursor = None
    while len(found) < count:
        params: dict[str, Any] = {"limit": 50, "in_stock": "true"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/products", params=params)).json()
        for item in page["items"]:
            detail = (await client.get(f"/api/v1/products/{item['id']}")).json()
            found += [v["id"] for v in detail["variants"] if v["stock"] >= 50]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


async def checkout_latency(base: str, rounds: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        headers = await sign_up(client)
        variants = await in_stock_variants(client, 5)
        timings = []
        for i in range(rounds):
            started = time.perf_counter()
            cart = (await client.post("/api/v1/carts", headers=headers)).json()
            add = await client.post(
                f"/api/v1/carts/{cart['id']}/lines",
                headers=headers,
                json={"variant_id": variants[i % len(variants)], "quantity": 1},
            )
            add.raise_for_status()
            order = await client.post(
                "/api/v1/orders",
                headers=headers,
                json={
                    "cart_id": cart["id"],
                    "payment_method": "dummy",
                    "address": {
                        "recipient": "김벤치",
                        "phone": "010-1234-5678",
                        "postal_code": "06236",
                        "line1": "서울 강남구 테헤란로 1",
                    },
                },
            )
            order.raise_for_status()
            body = order.json()
            paid = await client.post(
                f"/api/v1/orders/{body['id']}/payments",
                headers=headers,
                json={"amount": body["total"]},
            )
            paid.raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return {
            "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
            "rounds": rounds,
        }


async def placement_rate(base: str, seconds: float, concurrency: int) -> dict[str, float]:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=concurrency)
    ) as client:
        members = [await sign_up(client) for _ in range(concurrency)]
        variants = await in_stock_variants(client, 20)
        placed = 0
        failures = 0
        stop_at = time.perf_counter() + seconds

        async def shopper(headers: dict[str, str], n: int) -> None:
            nonlocal placed, failures
            while time.perf_counter() < stop_at:
                response = await client.post(
                    "/api/v1/orders",
                    headers=headers,
                    json={
                        "lines": [{"variant_id": variants[n % len(variants)], "quantity": 1}],
                        "payment_method": "dummy",
                        "address": {
                            "recipient": "김벤치",
                            "phone": "010-1234-5678",
                            "postal_code": "06236",
                            "line1": "서울 강남구 테헤란로 1",
                        },
                    },
                )
                if response.status_code == 201:
                    placed += 1
                else:
                    failures += 1
                n += 1

        started = time.perf_counter()
        await asyncio.gather(*[shopper(h, i) for i, h in enumerate(members)])
        elapsed = time.perf_counter() - started
        return {"orders_per_s": round(placed / elapsed, 1), "failed": failures}


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def read_figures(base: str, product_id: str, seconds: int, connections: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, path in [
        ("trivial", "/healthz"),
        ("product_list", "/api/v1/products?limit=24"),
        ("product_detail", f"/api/v1/products/{product_id}"),
        ("search", "/api/v1/products?limit=24&q=" + quote("니트")),
    ]:
        wrk(base + path, 1, connections)  # warm-up
        results[label] = wrk(base + path, seconds, connections)
    reference = results["trivial"]["rps"]
    for label in ("product_list", "product_detail", "search"):
        results[label]["ratio"] = round(results[label]["rps"] / reference, 3)
    return results


def run_backend(name: str, seconds: int, connections: int) -> dict[str, Any]:
    from bench.serve import BenchBackend

    with BenchBackend(name) as backend:
        backend.command("seed-demo")
        base = backend.serve()
        product_id = httpx.get(base + "/api/v1/products?limit=1").json()["items"][0]["id"]
        results: dict[str, Any] = read_figures(base, product_id, seconds, connections)
        results["checkout"] = asyncio.run(checkout_latency(base, 60))
        results["placement"] = asyncio.run(placement_rate(base, seconds, 16))
        backend.stop_servers()
        # the same reads with the micro-cache off: every request reaches the database
        base = backend.serve({"JANGTEO_CATALOG_CACHE_SECONDS": "0"})
        results["uncached"] = read_figures(base, product_id, seconds, connections)
        return results


def _reads_row(label: str, r: dict[str, Any]) -> str:
    cells = [f"{r['trivial']['rps']:.0f}"]
    for key in ("product_list", "product_detail", "search"):
        cells.append(f"{r[key]['rps']:.0f} ({r[key]['ratio']:.0%}), p99 {r[key]['p99_ms']} ms")
    return f"| {label} | " + " | ".join(cells) + " |"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Machine: {report['machine']}; {report['when']}; wrk -t2 -c{report['connections']}, "
        f"{report['seconds']} s each, server `jangteo run --workers 2` on the same machine.",
        "",
        "Reads, requests/s (ratio to the same server's `/healthz`), p99:",
        "",
        "| backend | /healthz | product list (24) | product detail | search `니트` |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["backends"].items():
        lines.append(_reads_row(f"{name}, micro-cache 1 s (default)", r))
        lines.append(_reads_row(f"{name}, micro-cache off", r["uncached"]))
    lines += [
        "",
        "Writes:",
        "",
        "| backend | full checkout (cart → order → dummy payment) p50 / p99 "
        "| order placements/s (16 concurrent buyers) |",
        "|---|---|---|",
    ]
    for name, r in report["backends"].items():
        lines.append(
            f"| {name} | {r['checkout']['p50_ms']} / {r['checkout']['p99_ms']} ms "
            f"| {r['placement']['orders_per_s']} |"
        )
    return "\n".join(lines)


def print_latest() -> None:
    report = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    print(markdown(report))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,pg")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    report: dict[str, Any] = {
        "machine": f"{host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": args.seconds,
        "connections": args.connections,
        "backends": {},
    }
    for name in args.backends.split(","):
        report["backends"][name] = run_backend(name, args.seconds, args.connections)
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
