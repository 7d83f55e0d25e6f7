"""Field errors for forms, from the API's problem details (pointers like `/body/email`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jangteo.web.client import ApiProblem
from jangteo.web.i18n import field_error_message, translate


class FormErrors:
    """Messages by field name (`email`, `address.postal_code`) and messages for the whole form."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.general: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def add(self, name: str | None, message: str) -> None:
        if name is None:
            if message not in self.general:
                self.general.append(message)
        else:
            self.fields.setdefault(name, message)

    @classmethod
    def from_problem(
        cls,
        problem: ApiProblem,
        locale: str,
        values: Mapping[str, Any] | None = None,
        *,
        code_fields: Mapping[str, str] | None = None,
        rename: Mapping[str, str] | None = None,
    ) -> FormErrors:
        """`code_fields` puts a problem (e.g. `email-taken`) under a field; `rename` maps an API
        field to the form's name for it (`lines.0.quantity` → `quantity`)."""
        errors = cls()
        values = values or {}
        rename = rename or {}
        for error in problem.errors:
            name = pointer_field(str(error.get("pointer", "")))
            name = rename.get(name or "", name)
            if name is None:
                errors.add(None, translate(problem.title, locale))
                continue
            errors.add(name, field_error_message(error, locale, values.get(name)))
        field = (code_fields or {}).get(problem.code)
        if field is not None:
            errors.add(field, translate(problem.title, locale))
        elif not problem.errors:
            errors.add(None, problem_message(problem, locale))
        return errors


def problem_message(problem: ApiProblem, locale: str) -> str:
    """The problem's title, and its detail when it says more."""
    title = translate(problem.title, locale)
    if problem.detail and problem.detail != problem.title:
        return f"{title} {translate(str(problem.detail), locale)}"
    return title


def pointer_field(pointer: str) -> str | None:
    """`/body/address/line1` → `address.line1`; `/body` (the whole request) → None."""
    parts = [p for p in pointer.split("/") if p]
    if parts and parts[0] in {"body", "query", "path"}:
        parts = parts[1:]
    return ".".join(parts) or None
