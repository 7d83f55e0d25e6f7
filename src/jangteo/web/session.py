"""The visitor's browser state: token, cart, language and visitor-id cookies and the CSRF
double-submit token.

Every cookie is HttpOnly and SameSite=Lax (Secure when the shop is served over https): page
scripts never need them; the CSRF token reaches forms and htmx through the rendered page.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

ACCESS_COOKIE = "jt_access"
REFRESH_COOKIE = "jt_refresh"
CSRF_COOKIE = "jt_csrf"
CART_COOKIE = "jt_cart"
LANG_COOKIE = "jt_lang"
# the browser's anonymous id (the API's share-link redirect sets the same cookie): what it looked
# at before signing in is credited once the member links it (`PUT /api/v1/me/visitors/{id}`)
VISITOR_COOKIE = "jt_vid"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

LANG_MAX_AGE = 365 * 24 * 3600
CART_MAX_AGE = 30 * 24 * 3600
VISITOR_MAX_AGE = 365 * 24 * 3600
VISITOR_ID_LENGTH = 20
_VISITOR_ALPHABET = string.ascii_letters + string.digits
# what the API accepts as a visitor id, so a cookie its redirect set is kept as it is
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{8,40}")


def _cart_from_cookie(value: str | None) -> tuple[str | None, str | None]:
    """`<cart id>` for a member's cart, `<cart id>.<token>` for a guest's."""
    if not value:
        return None, None
    cart_id, _, token = value.partition(".")
    try:
        uuid.UUID(cart_id)
    except ValueError:
        return None, None
    return cart_id, token or None


def new_visitor_id() -> str:
    return "".join(secrets.choice(_VISITOR_ALPHABET) for _ in range(VISITOR_ID_LENGTH))


class WebSession:
    """Reads the cookies of one request and collects the cookie changes for its response."""

    def __init__(
        self,
        cookies: Mapping[str, str],
        *,
        locale: str,
        secure: bool,
        refresh_ttl_seconds: int,
    ) -> None:
        self.locale = locale
        self.secure = secure
        self.refresh_ttl_seconds = refresh_ttl_seconds
        self.access_token = cookies.get(ACCESS_COOKIE) or None
        self.refresh_token = cookies.get(REFRESH_COOKIE) or None
        self.cart_id, self.cart_token = _cart_from_cookie(cookies.get(CART_COOKIE))
        self._changes: dict[str, tuple[str, int] | None] = {}
        given_visitor = cookies.get(VISITOR_COOKIE, "")
        self.visitor_id = given_visitor if _VISITOR_ID.fullmatch(given_visitor) else ""
        if not self.visitor_id:
            self.visitor_id = new_visitor_id()
            self._changes[VISITOR_COOKIE] = (self.visitor_id, VISITOR_MAX_AGE)
        given_csrf = cookies.get(CSRF_COOKIE, "")
        self.csrf_token = given_csrf if 20 <= len(given_csrf) <= 100 else ""
        if not self.csrf_token:
            self.rotate_csrf()

    @property
    def logged_in(self) -> bool:
        return bool(self.access_token or self.refresh_token)

    # ---- changes ---------------------------------------------------------------------------

    def choose_locale(self, locale: str) -> None:
        self.locale = locale
        self._changes[LANG_COOKIE] = (locale, LANG_MAX_AGE)

    def rotate_csrf(self) -> None:
        self.csrf_token = secrets.token_urlsafe(32)
        self._changes[CSRF_COOKIE] = (self.csrf_token, self.refresh_ttl_seconds)

    def set_tokens(self, grant: Mapping[str, Any]) -> None:
        """Keep the tokens of a log-in, refresh or MFA confirmation answer."""
        self.access_token = str(grant["access_token"])
        self.refresh_token = str(grant["refresh_token"])
        expires_in = int(grant.get("expires_in") or 900)
        self._changes[ACCESS_COOKIE] = (self.access_token, expires_in)
        self._changes[REFRESH_COOKIE] = (self.refresh_token, self.refresh_ttl_seconds)

    def clear_tokens(self) -> None:
        self.access_token = self.refresh_token = None
        self._changes[ACCESS_COOKIE] = None
        self._changes[REFRESH_COOKIE] = None

    def set_cart(self, cart_id: str, token: str | None = None) -> None:
        self.cart_id, self.cart_token = cart_id, token
        value = f"{cart_id}.{token}" if token else cart_id
        self._changes[CART_COOKIE] = (value, CART_MAX_AGE)

    def clear_cart(self) -> None:
        self.cart_id = self.cart_token = None
        self._changes[CART_COOKIE] = None

    def csrf_matches(self, given: str | None) -> bool:
        """Double-submit check, in constant time."""
        if not given or not self.csrf_token or CSRF_COOKIE in self._changes:
            # a token minted during this very request cannot have been submitted by a form
            return False
        return hmac.compare_digest(given.encode(), self.csrf_token.encode())

    def apply(self, response: Response) -> Response:
        for name, change in self._changes.items():
            if change is None:
                response.delete_cookie(
                    name, path="/", secure=self.secure, httponly=True, samesite="lax"
                )
                continue
            value, max_age = change
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
        return response
