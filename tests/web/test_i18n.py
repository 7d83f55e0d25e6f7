"""The pages' message catalogs: every text of the templates and pages has a Korean translation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir

from jangteo.web.i18n import Translator, catalog_ids, field_error_message, translate

WEB_DIR = Path(__file__).resolve().parents[2] / "src" / "jangteo" / "web"


def _msgids() -> set[str]:
    found = extract_from_dir(
        str(WEB_DIR),
        [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        keywords={"_": None, "N_": None},
        options_map={"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
    )
    return {m[2] if isinstance(m[2], str) else m[2][0] for m in found}


def test_every_page_text_has_a_korean_translation() -> None:
    msgids = _msgids()
    assert len(msgids) > 200
    missing = sorted(msgids - catalog_ids("ko"))
    assert missing == []


def test_placeholders_survive_translation() -> None:
    assert translate("Pay %(amount)s", "ko", amount="39,000원") == "39,000원 결제하기"
    assert translate("Pay %(amount)s", "en", amount="₩39,000") == "Pay ₩39,000"


def test_field_errors_take_the_limit_from_the_apis_detail() -> None:
    too_long = {"type": "string_too_long", "detail": "String should have at most 20 characters"}
    assert field_error_message(too_long, "ko", "가" * 21) == "20자 이하로 입력해 주세요."
    assert field_error_message(too_long, "en", "x" * 21) == "Enter at most 20 characters."
    small = {"type": "greater_than_equal", "detail": "Input should be greater than or equal to 1"}
    assert field_error_message(small, "ko", "0") == "1 이상의 숫자를 입력해 주세요."
    assert field_error_message(small, "ko", "") == "필수 입력 항목입니다."
    odd = {"type": "something_new", "detail": "?"}
    assert field_error_message(odd, "ko", "x") == "올바른 값이 아닙니다."


def test_dates_are_shown_in_seoul_time() -> None:
    moment = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 00:30 the next day in Seoul
    assert Translator("ko").datetime(moment) == "2026.11.25 00:30"
    assert Translator("ko").date("2026-11-24T15:30:00Z") == "2026.11.25"
    assert Translator("en").datetime(moment) == "Nov 25, 2026 00:30"
    assert Translator("ko").krw(39000) == "39,000원"
    assert Translator("en").krw(39000) == "₩39,000"
