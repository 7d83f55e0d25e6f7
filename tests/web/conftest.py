"""The web tests' app: the API with the storefront installed, and a browser-like client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from jangteo.app import create_app
from jangteo.core.platform import Platform
from jangteo.web import install_web


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Like the root `client`, on an app that also serves the pages; sends `Accept: text/html`
    and keeps cookies, like a browser."""
    app = create_app(platform.settings, platform=platform)
    install_web(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers={"Accept": "text/html"}
    ) as client:
        yield client
