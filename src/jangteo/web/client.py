"""The pages' client of the public HTTP API: in-process over ASGI, with the visitor's tokens.

The pages never reach the services or tables: every read and write goes through `/api/v1/...`
exactly as another front end would, so a shop can replace these pages without losing anything.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request

from jangteo.web.session import WebSession

API_BASE = "http://api.internal"
# the visitor's address, so the API's per-IP rules (login throttling) see the real caller
_caller: contextvars.ContextVar[tuple[str, int]] = contextvars.ContextVar(
    "web_api_caller", default=("127.0.0.1", 0)
)


class _CallerTransport(httpx.ASGITransport):
    """ASGI transport whose `client` address is the visitor of the page being served."""

    @property  # type: ignore[override]
    def client(self) -> tuple[str, int]:
        return _caller.get()

    @client.setter
    def client(self, _value: tuple[str, int]) -> None:
        """The address is per call (see `_caller`), not fixed when the transport is made."""


def api_http_client(app: Any) -> httpx.AsyncClient:
    """The app's one HTTP client to its own API, created on first use."""
    client = getattr(app.state, "web_api_client", None)
    if client is None:
        # an unexpected error in the API is answered as a 500 problem, not raised into the page
        transport = _CallerTransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url=API_BASE, timeout=30.0)
        app.state.web_api_client = client
    return client


@dataclass
class ApiProblem(Exception):
    """An RFC 9457 problem answered by the API; `errors` holds the field pointers of a 422."""

    status: int
    code: str
    title: str
    detail: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.title}")

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiProblem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            code=str(body.get("code") or f"http-{response.status_code}"),
            title=str(body.get("title") or "Something went wrong on our side."),
            detail=body.get("detail"),
            errors=[e for e in body.get("errors") or [] if isinstance(e, dict)],
            body=body,
        )


class _RefreshGate:
    """Collapses concurrent refreshes of one refresh token into one API call.

    Refresh tokens rotate and a reused one ends the session (theft detection); two requests of
    the same browser racing to refresh would otherwise log the visitor out. Results are kept
    for a few seconds, in this process only.
    """

    GRACE_SECONDS = 20.0

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._results: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def refresh(self, token: str, call: Any) -> dict[str, Any] | None:
        now = time.monotonic()
        self._results = {k: v for k, v in self._results.items() if now - v[0] < self.GRACE_SECONDS}
        lock = self._locks.setdefault(token, asyncio.Lock())
        try:
            async with lock:
                if token in self._results:
                    return self._results[token][1]
                grant = await call()
                self._results[token] = (time.monotonic(), grant)
                return grant
        finally:
            if not lock.locked():
                self._locks.pop(token, None)


def _refresh_gate(app: Any) -> _RefreshGate:
    gate = getattr(app.state, "web_refresh_gate", None)
    if gate is None:
        gate = app.state.web_refresh_gate = _RefreshGate()
    return gate


class ApiClient:
    """One page request's calls to the API, as the visitor (tokens from the HttpOnly cookies)."""

    def __init__(self, request: Request, session: WebSession) -> None:
        self._request = request
        self._session = session
        self._http = api_http_client(request.app)
        host = request.client.host if request.client else "127.0.0.1"
        port = request.client.port if request.client else 0
        self._caller = (host, port)

    @property
    def session(self) -> WebSession:
        return self._session

    def _headers(self, extra: dict[str, str] | None, *, auth: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Accept-Language": self._session.locale,
            "X-Request-ID": getattr(self._request.state, "request_id", "") or "",
            "User-Agent": self._request.headers.get("user-agent", "jangteo-web")[:300],
            # the browser's anonymous id: what a visitor touches is theirs once they sign in
            "X-Visitor-Id": self._session.visitor_id,
        }
        if auth and self._session.access_token:
            headers["Authorization"] = f"Bearer {self._session.access_token}"
        return {**headers, **(extra or {})}

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        auth: bool,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = _caller.set(self._caller)
        try:
            return await self._http.request(
                method,
                path,
                json=json,
                files=files,
                data=data,
                params={k: v for k, v in (params or {}).items() if v not in (None, "")},
                headers=self._headers(headers, auth=auth),
            )
        finally:
            _caller.reset(token)

    async def refresh_tokens(self) -> bool:
        """Trade the refresh cookie for new tokens; False (and logged out) when it is refused."""
        refresh_token = self._session.refresh_token
        if not refresh_token:
            return False

        async def call() -> dict[str, Any] | None:
            response = await self._send(
                "POST",
                "/api/v1/auth/refresh",
                json={"refresh_token": refresh_token},
                params=None,
                headers=None,
                auth=False,
            )
            return response.json() if response.status_code == 200 else None

        grant = await _refresh_gate(self._request.app).refresh(refresh_token, call)
        if grant is None:
            self._session.clear_tokens()
            return False
        self._session.set_tokens(grant)
        return True

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
        refresh: bool = True,
    ) -> Any:
        """The decoded JSON answer (the text of a `text/*` one; None for 204); raises
        ApiProblem for any 4xx/5xx.

        `files` (with the form fields in `data`) sends a multipart upload
        (`{"file": (name, content, content type)}`). `refresh=False` never trades the refresh
        token: a call made after the page was sent could not hand the new cookies over.
        """
        refresh = refresh and auth
        if refresh and not self._session.access_token and self._session.refresh_token:
            await self.refresh_tokens()
        upload = {"files": files, "data": data}
        response = await self._send(
            method, path, json=json, params=params, headers=headers, auth=auth, **upload
        )
        if response.status_code == 401 and refresh and self._session.refresh_token:
            problem = ApiProblem.from_response(response)
            if problem.code == "invalid-token" and await self.refresh_tokens():
                response = await self._send(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=headers,
                    auth=auth,
                    **upload,
                )
            elif problem.code in {"invalid-token", "unauthenticated"}:
                self._session.clear_tokens()
        if response.status_code >= 400:
            raise ApiProblem.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("text/"):
            return response.text  # an export, e.g. a CSV file
        return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.call("POST", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.call("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.call("DELETE", path, json=json, **kwargs)
