"""The app the browser tests serve: the API with the storefront pages installed."""

from __future__ import annotations

from fastapi import FastAPI

from jangteo.app import create_app
from jangteo.web import install_web


def create_shop_app() -> FastAPI:
    app = create_app()
    install_web(app)  # a no-op once create_app installs the pages itself
    return app
