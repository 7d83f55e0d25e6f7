"""Server-side time to render the storefront's category listing (24 products) on SQLite.

In-process, over httpx's ASGI transport, so the figure is the application's own time (routing,
the page's API calls, the database, the template) without sockets. The same app's `/healthz`
is measured the same way in the same run, and the ratio between them is reported, because
these machines are noisy. The database is a fresh SQLite file with the demo shop.

    python -m bench.listing_render [--requests 200] [--warmup 30]

Writes bench/results/listing_render.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import platform as host
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.demo import seed_demo
from jangteo.migrate import upgrade
from jangteo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
PRODUCTS_ON_PAGE = 24


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(cuts[98], 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "min_ms": round(min(samples), 2),
    }


async def timed_gets(
    client: httpx.AsyncClient, url: str, *, requests: int, warmup: int
) -> list[float]:
    """Milliseconds of `requests` sequential GETs of `url`, after `warmup` unmeasured ones."""
    for _ in range(warmup):
        (await client.get(url)).raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


class _Discard(io.TextIOBase):
    """A stream that formats nothing away: the log line is built, then dropped."""

    def write(self, text: str) -> int:
        return len(text)


def _silence_logs() -> None:
    """The access log is part of a request's cost; its output is not part of the report."""
    for handler in logging.getLogger("jangteo").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_Discard())


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Accept": "text/html"},
    )


async def busiest_category(client: httpx.AsyncClient) -> str:
    """The address of a category page that lists a full page of products."""
    tree = (await client.get("/api/v1/categories")).json()["items"]
    for node in tree:
        page = await client.get(
            "/api/v1/products", params={"category": node["id"], "limit": PRODUCTS_ON_PAGE}
        )
        if len(page.json()["items"]) == PRODUCTS_ON_PAGE:
            return f"/c/{quote(node['slug'])}"
    raise RuntimeError(f"no category of the demo shop has {PRODUCTS_ON_PAGE} products")


async def measure(requests: int, warmup: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jangteo-bench-") as tmp:
        var_dir = Path(tmp)
        settings = Settings(
            env="production",
            var_dir=var_dir,
            database_url=f"sqlite+aiosqlite:///{var_dir / 'jangteo.db'}",
            secret_key="bench-secret-key-" + "x" * 40,
            run_background_loops=False,
            log_json=True,
        )
        upgrade(settings.database_url)
        platform = build_platform(settings)
        await seed_demo(platform, if_empty=False)
        app = create_app(settings, platform=platform)
        _silence_logs()
        async with _client(app) as client:
            page = await busiest_category(client)
            first = await client.get(page)
            cards = first.text.count('<li class="card">')
            listing = await timed_gets(client, page, requests=requests, warmup=warmup)
            healthz = await timed_gets(client, "/healthz", requests=requests, warmup=warmup)
        uncached = None
        if "catalog_cache_seconds" in Settings.model_fields:
            # the same page with the catalog's short-lived read cache off: every request renders
            # from the database
            cold = create_app(
                settings.model_copy(update={"catalog_cache_seconds": 0}), platform=platform
            )
            _silence_logs()
            async with _client(cold) as client:
                uncached = percentiles(
                    await timed_gets(client, page, requests=requests, warmup=warmup)
                )
        await platform.cache.close()
        await platform.db.dispose()
    listing_figures, healthz_figures = percentiles(listing), percentiles(healthz)
    return {
        "benchmark": "listing_render",
        "what": "storefront category page, server time in-process (httpx ASGITransport)",
        "machine": f"{host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite (demo shop)",
        "page": page,
        "products_on_page": cards,
        "requests": requests,
        "warmup": warmup,
        "listing": listing_figures,
        "healthz": healthz_figures,
        "listing_without_catalog_cache": uncached,
        "ratio_p50": round(listing_figures["p50_ms"] / healthz_figures["p50_ms"], 1),
        "ratio_p99": round(listing_figures["p99_ms"] / healthz_figures["p99_ms"], 1),
        "target_ms": TARGET_MS,
        "meets_target": listing_figures["p50_ms"] < TARGET_MS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    report = asyncio.run(measure(args.requests, args.warmup))
    out = ROOT / "bench" / "results" / "listing_render.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    listing, healthz = report["listing"], report["healthz"]
    print(
        f"{report['page']} ({report['products_on_page']} products): "
        f"p50 {listing['p50_ms']} ms, p99 {listing['p99_ms']} ms; "
        f"/healthz p50 {healthz['p50_ms']} ms, p99 {healthz['p99_ms']} ms; "
        f"ratio p50 {report['ratio_p50']}x; "
        + (
            f"without the catalog cache p50 {uncached['p50_ms']} ms, p99 {uncached['p99_ms']} ms; "
            if (uncached := report["listing_without_catalog_cache"])
            else ""
        )
        + f"target {TARGET_MS} ms: "
        f"{'met' if report['meets_target'] else 'NOT met'} -> {out.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
