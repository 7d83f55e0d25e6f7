"""What every page handler works with: the visitor's session, the API client, rendering.

`Web` (a FastAPI dependency) is the one object a handler needs; `CheckedWeb` also verifies the
CSRF token of a POST. Storefront and console handlers both use it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from starlette.background import BackgroundTasks
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from jangteo.web.client import ApiClient, ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import Translator, page_locale
from jangteo.web.session import CSRF_FIELD, CSRF_HEADER, LANG_COOKIE, WebSession
from jangteo.web.theme import templates

log = logging.getLogger("jangteo.web")


class CsrfRejected(Exception):
    """A POST whose CSRF token does not match the visitor's cookie."""


class LoginRequired(Exception):
    """A member page opened without a session: the visitor is sent to the log-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after log-in (no `//host` or `https://…`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


class Web:
    """One page request: who is visiting, in which language, and how to answer them."""

    def __init__(self, request: Request) -> None:
        self.request = request
        settings = request.app.state.settings
        query_lang = request.query_params.get("lang")
        locale = page_locale(query_lang, request.cookies.get(LANG_COOKIE))
        self.session = WebSession(
            request.cookies,
            locale=locale,
            secure=str(settings.base_url).startswith("https://"),
            refresh_ttl_seconds=int(settings.refresh_token_ttl_seconds),
        )
        if query_lang == locale:
            self.session.choose_locale(locale)
        self.settings = settings
        self.api = ApiClient(request, self.session)
        self._ = Translator(locale)
        self._form: FormData | None = None
        self._after: list[Callable[[], Awaitable[Any]]] = []

    @property
    def locale(self) -> str:
        return self.session.locale

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    async def form(self) -> FormData:
        if self._form is None:
            self._form = await self.request.form()
        return self._form

    async def field(self, name: str) -> str:
        """A text field of the posted form, trimmed ("" when absent or a file)."""
        return (await self.raw_field(name)).strip()

    async def raw_field(self, name: str) -> str:
        """A field as typed, for passwords (spaces are legitimate characters in them)."""
        value = (await self.form()).get(name)
        return value if isinstance(value, str) else ""

    def require_member(self) -> None:
        if not self.session.logged_in:
            raise LoginRequired(self.current_path())

    def current_path(self) -> str:
        url = self.request.url
        return url.path + (f"?{url.query}" if url.query else "")

    def url_with(self, **changes: Any) -> str:
        """The current path with some query parameters replaced (None removes one)."""
        params = dict(self.request.query_params)
        # a one-time notice and the language choice are not part of the page's address
        params.pop("lang", None)
        params.pop("notice", None)
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        query = urlencode(params)
        return self.request.url.path + (f"?{query}" if query else "")

    def new_idempotency_key(self) -> str:
        return str(uuid.uuid4())

    def after_response(self, call: Callable[[], Awaitable[Any]]) -> None:
        """An API call the page does not wait for: made once the answer is sent; a refused
        one is ignored (the visitor has their page either way)."""
        self._after.append(call)

    async def _run_after(self, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            await call()
        except ApiProblem as problem:
            if problem.status >= 500:
                log.warning("call after the page failed", extra={"code": problem.code})
        except Exception:
            log.exception("call after the page failed")

    # ---- answers -----------------------------------------------------------------------------

    def context(self, **values: Any) -> dict[str, Any]:
        return {
            "request": self.request,
            "_": self._,
            "locale": self.locale,
            "csrf_field": CSRF_FIELD,
            "csrf_token": self.session.csrf_token,
            "logged_in": self.session.logged_in,
            "cart_count": None,
            "current_path": self.current_path(),
            "url_with": self.url_with,
            "quote": quote,
            "errors": FormErrors(),
            **values,
        }

    def render(
        self,
        template: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        body = templates(self.request.app).get_template(template).render(self.context(**values))
        response = HTMLResponse(body, status_code=status_code, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        return self.finish(response)  # type: ignore[return-value]

    def redirect(self, url: str, status_code: int = 303) -> Response:
        if self.is_htmx:
            # htmx follows a redirect by itself and would swap the whole page into a fragment
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=status_code)
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        if self._after:
            tasks = BackgroundTasks()
            if response.background is not None:
                tasks.add_task(response.background)
            for call in self._after:
                tasks.add_task(self._run_after, call)
            self._after = []
            response.background = tasks
        return self.session.apply(response)

    def render_problem(self, problem: ApiProblem) -> HTMLResponse:
        """The error page for a problem the API answered and the page cannot handle itself."""
        if problem.status == 404:
            return self.render("errors/404.html", status_code=404)
        status = problem.status if 400 <= problem.status < 600 else 500
        return self.render("errors/error.html", status_code=status, problem=problem)


def get_web(request: Request) -> Web:
    web = getattr(request.state, "web", None)
    if web is None:
        web = request.state.web = Web(request)
    return web


async def _web(request: Request) -> Web:
    # a dependency that is a coroutine runs on the event loop; a plain function would be sent
    # to the thread pool on every request
    return get_web(request)


async def get_checked_web(request: Request) -> Web:
    web = get_web(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        value = (await web.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not web.session.csrf_matches(given):
        raise CsrfRejected()
    return web


WebDep = Annotated[Web, Depends(_web)]
CheckedWeb = Annotated[Web, Depends(get_checked_web)]


def cursor(web: Web) -> str:
    """The `cursor` query parameter of a paged list, passed on to the API as given."""
    return web.request.query_params.get("cursor", "")[:500]
