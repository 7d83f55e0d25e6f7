"""CSRF double-submit, cookie flags, token refresh and the theme directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from tests.conftest import Backend, make_settings
from tests.factories.catalog import make_product
from tests.web._support import PASSWORD, csrf_token, sign_up, submit

from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.settings import Settings
from jangteo.web import install_web


def _cookie_headers(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_posts_without_the_csrf_token_get_the_403_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    form = {"variant_id": product.variant_ids[0], "quantity": "1"}
    await csrf_token(client)

    missing = await client.post("/cart/lines", data=form)
    wrong = await client.post("/cart/lines", data={**form, "csrf_token": "x" * 43})
    wrong_header = await client.post(
        "/cart/lines", data=form, headers={"X-CSRF-Token": "y" * 43, "HX-Request": "true"}
    )
    for response in (missing, wrong, wrong_header):
        assert response.status_code == 403
        assert "요청이 만료되었습니다" in response.text
    assert "jt_cart" not in client.cookies  # nothing was added

    accepted = await submit(client, "/cart/lines", form)
    assert accepted.status_code == 303
    via_header = await client.post(
        "/cart/lines",
        data=form,
        headers={"X-CSRF-Token": client.cookies["jt_csrf"], "HX-Request": "true"},
    )
    assert via_header.status_code == 200 and "장바구니에 담았습니다." in via_header.text


async def test_a_visitor_without_a_csrf_cookie_cannot_post(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/login", data={"email": "a@example.com", "password": "x", "csrf_token": "x" * 43}
    )
    assert response.status_code == 403


async def test_session_cookies_are_httponly_samesite_lax_and_not_secure_over_http(
    client: httpx.AsyncClient,
) -> None:
    email = (await sign_up(client))["email"]
    await client.post("/logout", data={"csrf_token": client.cookies["jt_csrf"]})
    response = await submit(client, "/login", {"email": email, "password": PASSWORD})

    assert response.status_code == 303
    cookies = _cookie_headers(response)
    for name in ("jt_access", "jt_refresh", "jt_csrf", "jt_cart"):
        header = cookies[name].lower()
        assert "httponly" in header, name
        assert "samesite=lax" in header, name
        assert "path=/" in header, name
        assert "secure" not in header, name


async def test_cookies_are_secure_when_the_shop_is_served_over_https(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(backend, tmp_path, base_url="https://shop.example")
    platform = build_platform(settings, clock)
    try:
        app = create_app(settings, platform=platform)
        install_web(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://shop.example"
        ) as client:
            response = await client.get("/login")
        header = _cookie_headers(response)["jt_csrf"].lower()
        assert "secure" in header and "httponly" in header
    finally:
        await platform.cache.close()
        await platform.db.dispose()


async def test_an_expired_access_token_is_refreshed_from_the_refresh_cookie(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await sign_up(client)
    old_refresh = client.cookies["jt_refresh"]
    clock.advance(minutes=20)  # the 15-minute access token has expired

    response = await client.get("/my/orders")

    assert response.status_code == 200
    assert "아직 주문이 없습니다." in response.text
    assert client.cookies["jt_refresh"] != old_refresh  # rotated and stored


async def test_a_revoked_refresh_token_logs_the_visitor_out_to_the_login_page(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await sign_up(client)
    client.cookies.set("jt_refresh", "not-a-real-token")
    clock.advance(minutes=20)

    response = await client.get("/my/orders")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/my/orders")


class ThemedSettings(Settings):
    """Settings with the theme directory (the field the app's settings are to gain)."""

    theme_dir: Path | None = None


async def test_a_theme_directory_overrides_templates_and_static_files(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    theme = tmp_path / "theme"
    (theme / "templates" / "shop").mkdir(parents=True)
    (theme / "static" / "css").mkdir(parents=True)
    (theme / "templates" / "shop" / "home.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>우리 가게 테마</h1>{% endblock %}',
        encoding="utf-8",
    )
    (theme / "static" / "css" / "site.css").write_text(":root { --brand: #123456; }")
    base = make_settings(backend, tmp_path)
    settings = ThemedSettings(**{**base.model_dump(), "theme_dir": theme})
    platform = build_platform(settings, clock)
    try:
        app = create_app(settings, platform=platform)
        install_web(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            home = await client.get("/")
            css = await client.get("/static/css/site.css")
            js = await client.get("/static/js/site.js")
            cart = await client.get("/cart")
        assert "우리 가게 테마" in home.text and "신상품" not in home.text
        assert "장바구니가 비어 있습니다." in cart.text  # not overridden: the package's
        assert css.text == ":root { --brand: #123456; }"
        assert js.status_code == 200 and "data-show-when" in js.text
    finally:
        await platform.cache.close()
        await platform.db.dispose()


async def test_concurrent_pages_share_one_refresh_and_keep_the_session(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await sign_up(client)
    clock.advance(minutes=20)
    # a browser loading several things at once, all with the same expired token (an explicit
    # Cookie header keeps cookies stored by the first answer out of the later requests)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    answers = await asyncio.gather(
        *(client.get("/my/orders", headers={"Cookie": cookie}) for _ in range(4))
    )

    assert [a.status_code for a in answers] == [200] * 4
    new_refresh = {a.cookies.get("jt_refresh") for a in answers}
    assert len(new_refresh) == 1 and None not in new_refresh  # rotated once, not four times
    assert (await client.get("/my/wallet")).status_code == 200


async def test_an_unexpected_failure_is_the_error_page_for_browsers_only(
    platform: Platform,
) -> None:
    app = create_app(platform.settings, platform=platform)
    install_web(app)

    @app.get("/broken-page")
    async def broken_page() -> None:
        raise RuntimeError("a bug")

    @app.get("/api/v1/broken")
    async def broken_api() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/broken-page", headers={"Accept": "text/html"})
        api = await client.get("/api/v1/broken", headers={"Accept": "text/html"})

    assert page.status_code == 500
    assert "문제가 발생했습니다" in page.text and "a bug" not in page.text
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
