"""Translations from gettext catalogs (Korean first, English second) and locale negotiation."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "ko"
SUPPORTED_LOCALES = ("ko", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog: Catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def translate(message: str, locale: str = DEFAULT_LOCALE) -> str:
    """The message in `locale`; msgids are English, so English falls back to the id."""
    return _catalog(locale).get(message, message)


def negotiate_locale(accept_language: str | None, explicit: str | None = None) -> str:
    if explicit in SUPPORTED_LOCALES:
        return explicit  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED_LOCALES:
            return tag
    return DEFAULT_LOCALE
