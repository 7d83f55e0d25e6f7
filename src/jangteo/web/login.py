"""The log-in attempt both the storefront and the console make: password, then a second factor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.page import Web

LOGIN_FIELDS = ("email", "totp_code", "recovery_code", "next")


@dataclass
class LoginAttempt:
    """Either the API's grant (tokens and member) or what the form shows next."""

    values: dict[str, str]
    grant: dict[str, Any] | None = None
    errors: FormErrors = field(default_factory=FormErrors)
    second_step: bool = False
    status_code: int = 200


async def attempt_login(web: Web) -> LoginAttempt:
    values = {name: await web.field(name) for name in LOGIN_FIELDS}
    values["password"] = await web.raw_field("password")
    body: dict[str, Any] = {"email": values["email"], "password": values["password"]}
    if values["totp_code"]:
        body["totp_code"] = values["totp_code"].replace(" ", "")
    if values["recovery_code"]:
        body["recovery_code"] = values["recovery_code"]
    try:
        grant = await web.api.call("POST", "/api/v1/auth/token", json=body, auth=False)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        attempt = LoginAttempt(
            values=values,
            second_step=problem.code in {"mfa-code-required", "invalid-mfa-code"},
            status_code=200 if problem.code == "mfa-code-required" else problem.status,
        )
        if problem.code != "mfa-code-required":  # the second step is a question, not a mistake
            attempt.errors = FormErrors.from_problem(
                problem, web.locale, values, code_fields={"invalid-mfa-code": "totp_code"}
            )
        if not attempt.second_step:
            values["password"] = ""
        return attempt
    return LoginAttempt(values=values, grant=grant)
