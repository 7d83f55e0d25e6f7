"""What the browser journeys share: paths, chromium's flags, the live server, new pages."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]

    def jangteo(self, *args: str) -> str:
        """Run the `jangteo` command with the server's settings; its output."""
        done = subprocess.run(
            [str(BIN / "jangteo"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)


def new_page(browser: Any, live_server: LiveServer, viewport: dict[str, int]) -> Any:
    """A fresh browser profile (no cookies) in Korean, on the live server."""
    context = browser.new_context(base_url=live_server.base_url, locale="ko-KR", viewport=viewport)
    context.set_default_timeout(15_000)
    return context.new_page()
