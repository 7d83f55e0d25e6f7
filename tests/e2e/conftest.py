"""Browser journeys: a real server (uvicorn subprocess on SQLite with the demo shop) and
Debian's chromium driven by Playwright.

`live_server.jangteo(...)` runs the `jangteo` command against the server's database: the hook
for journeys that need accounts made outside the pages (e.g. `createadmin` for the console).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e._browser import BIN, CHROMIUM, CHROMIUM_ARGS, ROOT, SCREENSHOTS, LiveServer
from tests.serving import free_port


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser journeys against a real server")


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling the server's start-up, not waiting for an effect
    raise RuntimeError(f"the server did not answer /healthz within {seconds} s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-nanum")
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JANGTEO_ENV": "test",
        "JANGTEO_VAR_DIR": str(var_dir),
        "JANGTEO_DATABASE_URL": f"sqlite+aiosqlite:///{var_dir / 'jangteo.db'}",
        "JANGTEO_BASE_URL": base_url,
        "JANGTEO_SECRET_KEY": "e2e-secret-key-" + "x" * 40,
        "JANGTEO_ARGON2_TIME_COST": "1",
        "JANGTEO_ARGON2_MEMORY_COST_KIB": "8",
        "JANGTEO_ARGON2_PARALLELISM": "1",
        "JANGTEO_LOG_JSON": "false",
    }
    for name in ("JANGTEO_REDIS_URL", "JANGTEO_THEME_DIR"):
        env.pop(name, None)
    server = LiveServer(base_url=base_url, env=env)
    server.jangteo("migrate")
    server.jangteo("seed-demo")
    log = (var_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "uvicorn",
            "tests.e2e.server_app:create_shop_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_healthy(base_url, process, seconds=60)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
