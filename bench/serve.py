"""A fresh backend for a benchmark: a migrated database (an SQLite file, or a PostgreSQL database
with its own Redis prefix) and `jangteo run --workers 2` servers on it, all removed afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

from bench.run_all import BIN, PG_ADMIN, REDIS_URL, ROOT, free_port, pg_admin, wait_ready


class BenchBackend:
    def __init__(self, name: str) -> None:
        assert name in ("sqlite", "pg")
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"jangteo-bench-{name}-"))
        self.dbname = f"jangteo_bench_{uuid.uuid4().hex[:8]}"
        # the PostgreSQL database for direct connections (asyncpg), None on SQLite
        self.dsn: str | None = None
        self.env = {
            **os.environ,
            "JANGTEO_VAR_DIR": str(self.workdir),
            "JANGTEO_LOG_JSON": "false",
            "JANGTEO_SECRET_KEY": "bench-" + "k" * 40,
            "JANGTEO_ARGON2_TIME_COST": "1",
            "JANGTEO_ARGON2_MEMORY_COST_KIB": "8192",
            "JANGTEO_ARGON2_PARALLELISM": "1",
        }
        self._servers: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> BenchBackend:
        if self.name == "pg":
            asyncio.run(pg_admin(f'CREATE DATABASE "{self.dbname}"'))
            self.dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.dbname
            self.env["JANGTEO_DATABASE_URL"] = self.dsn.replace(
                "postgresql://", "postgresql+asyncpg://"
            )
            self.env["JANGTEO_REDIS_URL"] = REDIS_URL
            self.env["JANGTEO_REDIS_PREFIX"] = f"bench-{self.dbname}:"
        self.command("migrate")
        return self

    def command(self, *args: str) -> None:
        subprocess.run([str(BIN / "jangteo"), *args], env=self.env, check=True, cwd=ROOT)

    def serve(self, extra_env: dict[str, str] | None = None) -> str:
        """Start `jangteo run --workers 2` on a free port; its base URL once it answers."""
        port = free_port()
        log = (self.workdir / f"server-{port}.log").open("w")
        self._servers.append(
            subprocess.Popen(
                [str(BIN / "jangteo"), "run", "--workers", "2", "--port", str(port)],
                env={**self.env, **(extra_env or {})},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        return base

    def stop_servers(self) -> None:
        while self._servers:
            server = self._servers.pop()
            server.terminate()
            server.wait(timeout=30)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_servers()
        if self.name == "pg":
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)
