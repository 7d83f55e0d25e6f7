"""Helpers of the page tests: a browser-like client that fills forms with their CSRF token."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from jangteo.web.session import CSRF_COOKIE

PASSWORD = "correct-horse-42"


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The visitor's CSRF token (a first page view sets the cookie)."""
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return client.cookies[CSRF_COOKIE]


async def submit(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    """POST a form as the page would, with the hidden CSRF field."""
    form = {"csrf_token": await csrf_token(client), **(data or {})}
    return await client.post(url, data=form, **kwargs)


def unique_member() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"web-{tag}@example.com", f"웹회원{tag[:6]}"


async def sign_up(client: httpx.AsyncClient, *, next_path: str = "/") -> dict[str, str]:
    """Sign up (and so log in) through the pages; the client then holds the session cookies."""
    email, nickname = unique_member()
    response = await submit(
        client,
        "/signup",
        {
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "nickname": nickname,
            "next": next_path,
        },
    )
    assert response.status_code == 303, response.text
    return {"email": email, "nickname": nickname, "password": PASSWORD}


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await submit(client, "/login", {"email": email, "password": password, "next": "/"})


def member_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """The API's Authorization header for the member logged in on this client."""
    return {"Authorization": f"Bearer {client.cookies['jt_access']}"}


async def member_id(client: httpx.AsyncClient) -> str:
    me = await client.get("/api/v1/me", headers=member_headers(client))
    assert me.status_code == 200, me.text
    return str(me.json()["id"])


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags removed, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", html)
    return " ".join(without_tags.split())


def first_href(html: str, prefix: str) -> str:
    found = re.search(rf'href="({re.escape(prefix)}[^"?]+)"', html)
    assert found, f"no link starting with {prefix}"
    return found.group(1)
