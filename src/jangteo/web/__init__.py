"""Storefront and staff console: server-rendered pages that are clients of the API.

`install_web(app)` adds the page routes, `/static` (themed) and the HTML error pages. The
pages call the public API in-process (`web.client`), never the services or tables.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console import router as console_router
from jangteo.web.console.common import ConsoleForbidden, ConsoleRedirect
from jangteo.web.page import CsrfRejected, LoginRequired, get_web
from jangteo.web.storefront import router
from jangteo.web.theme import ThemedStaticFiles

__all__ = ["PAGE_ROUTERS", "install_web", "router", "static_files"]
# every group of pages the app serves: the shop, and the staff console under /console
PAGE_ROUTERS = [router, console_router]
log = logging.getLogger("jangteo.web")

# paths that answer problem+json whatever the client accepts
_API_PREFIXES = ("/api/", "/media/", "/static/", "/healthz", "/readyz", "/openapi.json", "/docs")


def static_files() -> ThemedStaticFiles:
    return ThemedStaticFiles()


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(_API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_web(app: FastAPI) -> None:
    """Mount the storefront on `app` (after the API routers and core's error handlers)."""
    if getattr(app.state, "web_installed", False):
        return
    app.state.web_installed = True
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)
    app.mount("/static", static_files(), name="static")
    api_http_handler = app.exception_handlers.get(StarletteHTTPException)
    api_error_handler = app.exception_handlers.get(Exception)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if wants_html(request) and exc.status_code in {404, 405}:
            web = get_web(request)
            return web.render("errors/404.html", status_code=404)
        assert api_http_handler is not None
        return await api_http_handler(request, exc)  # type: ignore[no-any-return]

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        return get_web(request).render("errors/csrf.html", status_code=403)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return get_web(request).redirect("/login?next=" + quote(exc.next_path, safe="/"))

    async def api_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        web = get_web(request)
        if exc.status == 401:
            web.session.clear_tokens()
            in_console = request.url.path.startswith("/console")
            back = web.current_path() if request.method == "GET" else "/"
            if in_console:
                back = back if request.method == "GET" else "/console"
                return web.redirect("/console/login?next=" + quote(back, safe="/"))
            return web.redirect("/login?next=" + quote(back, safe="/"))
        if request.url.path.startswith("/console") and exc.code == "mfa-required":
            return web.redirect("/console/mfa")
        return web.render_problem(exc)

    async def console_redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleRedirect)
        return get_web(request).redirect(exc.url)

    async def console_forbidden(request: Request, exc: Exception) -> Response:
        return get_web(request).render("console/forbidden.html", status_code=403)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if not wants_html(request):
            assert api_error_handler is not None
            return await api_error_handler(request, exc)  # type: ignore[no-any-return]
        log.exception("page failed", extra={"path": request.url.path})
        return get_web(request).render("errors/error.html", status_code=500, problem=None)

    handlers: dict[Any, Any] = {
        Exception: unexpected_error,
        StarletteHTTPException: http_error,
        CsrfRejected: csrf_rejected,
        LoginRequired: login_required,
        ApiProblem: api_problem,
        ConsoleRedirect: console_redirect,
        ConsoleForbidden: console_forbidden,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
