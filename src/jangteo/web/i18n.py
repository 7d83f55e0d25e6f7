"""Translations of the web pages (gettext catalogs in web/locale), dates in Asia/Seoul, prices."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

from jangteo.core.clock import SEOUL
from jangteo.core.i18n import SUPPORTED_LOCALES, negotiate_locale
from jangteo.core.money import format_krw

WEB_LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is defined, translated later where it is shown."""
    return message


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, str]:
    path = WEB_LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def catalog_ids(locale: str) -> set[str]:
    """The msgids that have a translation in `locale` (for the catalog completeness test)."""
    return set(_catalog(locale))


def translate(message: str, locale: str, **values: Any) -> str:
    """`message` in `locale` (msgids are English), with `%(name)s` placeholders filled."""
    text = _catalog(locale).get(message, message)
    return text % values if values else text


def page_locale(query_lang: str | None, cookie_lang: str | None) -> str:
    """The storefront is Korean unless the visitor chose English (query, then cookie)."""
    chosen = query_lang if query_lang in SUPPORTED_LOCALES else cookie_lang
    return negotiate_locale(None, chosen)


class Translator:
    """The `_()` of one request's templates and handlers."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __call__(self, message: str, **values: Any) -> str:
        return translate(message, self.locale, **values)

    def krw(self, amount: int | None) -> str:
        if amount is None:
            return ""
        return format_krw(amount) if self.locale == "ko" else f"₩{amount:,}"

    def datetime(self, moment: datetime | str | None) -> str:
        if moment is None:
            return ""
        value = _parse(moment)
        if self.locale == "ko":
            return value.astimezone(SEOUL).strftime("%Y.%m.%d %H:%M")
        return format_datetime(value, "MMM d, y HH:mm", tzinfo=SEOUL, locale=self.locale)

    def date(self, moment: datetime | str | None) -> str:
        if moment is None:
            return ""
        value = _parse(moment).astimezone(SEOUL)
        if self.locale == "ko":
            return value.strftime("%Y.%m.%d")
        return format_date(value.date(), "medium", locale=self.locale)


def _parse(moment: datetime | str) -> datetime:
    if isinstance(moment, datetime):
        return moment
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


# ---- field errors of the API's problem details, in the visitor's language -------------------

# pydantic's error types → a message; `%(n)s` takes the first number of the API's English detail
FIELD_ERROR_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(n)s characters."),
    "string_too_long": N_("Enter at most %(n)s characters."),
    "too_short": N_("Choose at least %(n)s."),
    "too_long": N_("Choose at most %(n)s."),
    "greater_than_equal": N_("Enter a number of at least %(n)s."),
    "greater_than": N_("Enter a number greater than %(n)s."),
    "less_than_equal": N_("Enter a number of at most %(n)s."),
    "less_than": N_("Enter a number less than %(n)s."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "uuid_parsing": N_("Choose an option."),
    "literal_error": N_("Choose one of the options."),
    "value_error": N_("The value is not valid."),
    "bool_parsing": N_("Choose yes or no."),
}
_FIRST_NUMBER = re.compile(r"-?\d[\d,]*")


def field_error_message(error: dict[str, Any], locale: str, value: Any = None) -> str:
    """A visitor-facing sentence for one entry of a problem's `errors`."""
    kind = str(error.get("type", ""))
    detail = str(error.get("detail", ""))
    # an empty form field is "required", whatever type the API expected there
    if kind == "missing" or (isinstance(value, str) and not value.strip()):
        return translate(FIELD_ERROR_MESSAGES["missing"], locale)
    message = FIELD_ERROR_MESSAGES.get(kind)
    if message is None:
        return translate(FIELD_ERROR_MESSAGES["value_error"], locale)
    if "%(n)s" in message:
        found = _FIRST_NUMBER.search(detail)
        if found is None:
            return translate(FIELD_ERROR_MESSAGES["value_error"], locale)
        number = int(found.group().replace(",", ""))
        return translate(message, locale, n=f"{number:,}")
    return translate(message, locale)
