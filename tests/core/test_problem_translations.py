"""Every problem a client can get has a Korean title."""

from __future__ import annotations

import jangteo.app  # noqa: F401  (imports every domain, so every problem type is defined)
from jangteo.core.errors import DomainError
from jangteo.core.i18n import negotiate_locale, translate


def _all_problem_types(cls: type[DomainError]) -> list[type[DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_problem_types(sub))
    return found


def test_every_problem_title_is_translated_to_korean() -> None:
    missing = sorted(
        {p.title for p in _all_problem_types(DomainError) if translate(p.title, "ko") == p.title}
    )
    assert missing == []


def test_locale_negotiation_prefers_korean() -> None:
    assert negotiate_locale(None) == "ko"
    assert negotiate_locale("fr-FR, en;q=0.5") == "en"
    assert negotiate_locale("en", explicit="ko") == "ko"
