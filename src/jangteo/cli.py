"""The `jangteo` command: run, migrate, seed-demo, worker, createadmin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys

from jangteo.settings import Settings


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "jangteo.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from jangteo.migrate import upgrade

    upgrade(Settings().database_url)
    print("database is at the latest schema")
    return 0


async def _with_platform(action):  # type: ignore[no-untyped-def]
    from jangteo.bootstrap import build_platform

    platform = build_platform(Settings())
    try:
        return await action(platform)
    finally:
        await platform.cache.close()
        await platform.pubsub.close()
        await platform.intake.close()
        await platform.db.dispose()


def _seed_demo(args: argparse.Namespace) -> int:
    from jangteo.demo import seed_demo

    async def action(platform):  # type: ignore[no-untyped-def]
        return await seed_demo(platform, if_empty=args.if_empty)

    seeded = asyncio.run(_with_platform(action))
    print("demo data loaded" if seeded else "demo data already present; nothing changed")
    return 0


def _worker(_args: argparse.Namespace) -> int:
    from jangteo.app import run_background_loop

    async def action(platform):  # type: ignore[no-untyped-def]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("worker: delivering events and running scheduled jobs; Ctrl-C stops")
        await run_background_loop(platform, stop)

    asyncio.run(_with_platform(action))
    return 0


def _createadmin(args: argparse.Namespace) -> int:
    from jangteo.accounts.service import create_admin

    password = args.password or os.environ.get("JANGTEO_ADMIN_PASSWORD") or getpass.getpass()

    async def action(platform):  # type: ignore[no-untyped-def]
        return await create_admin(
            platform, email=args.email, password=password, nickname=args.nickname
        )

    member_id = asyncio.run(_with_platform(action))
    print(f"admin {args.email} created ({member_id}); enrol TOTP at first log-in")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jangteo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="serve the API and pages")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.set_defaults(func=_run)

    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(func=_migrate)

    seed = commands.add_parser("seed-demo", help="load the Korean demo shop")
    seed.add_argument(
        "--if-empty", action="store_true", help="only when the database has no products yet"
    )
    seed.set_defaults(func=_seed_demo)

    commands.add_parser("worker", help="deliver events and run scheduled jobs").set_defaults(
        func=_worker
    )

    admin = commands.add_parser("createadmin", help="create the first administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--nickname", default="관리자")
    admin.add_argument("--password", help="or JANGTEO_ADMIN_PASSWORD, or asked for")
    admin.set_defaults(func=_createadmin)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
