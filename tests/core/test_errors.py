"""The problem+json contract for client mistakes: never a 500, always a stable type."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from jangteo.app import create_app
from jangteo.core.errors import define
from jangteo.core.platform import Platform

Teapot = define("teapot-empty", 409, "The request conflicts with the current state.")


class Quantity(BaseModel):
    quantity: int = Field(ge=1, le=999)
    note: str = Field(default="", max_length=10)


def _probe_router() -> APIRouter:
    router = APIRouter()

    @router.post("/probe")
    async def probe(body: Quantity) -> dict[str, int]:
        return {"quantity": body.quantity}

    @router.post("/probe/conflict")
    async def conflict() -> None:
        raise Teapot(pot="empty")

    return router


@pytest.fixture
async def probe_client(platform: Platform):
    app = create_app(platform.settings, platform=platform)
    app.include_router(_probe_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_malformed_json_is_400(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe", content=b'{"quantity": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "malformed-json"


@pytest.mark.parametrize("quantity", [0, -1, 10_000, 2**63, "many", None, 1.5])
async def test_bad_values_are_422_with_a_pointer(
    probe_client: httpx.AsyncClient, quantity: object
) -> None:
    response = await probe_client.post("/probe", json={"quantity": quantity})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    assert body["errors"][0]["pointer"] == "/body/quantity"


async def test_titles_are_korean_by_default_and_english_on_request(
    probe_client: httpx.AsyncClient,
) -> None:
    korean = await probe_client.post("/probe", json={"quantity": 0})
    assert korean.json()["title"] == "입력값이 올바르지 않습니다."
    english = await probe_client.post(
        "/probe", json={"quantity": 0}, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert english.json()["title"] == "The input is not valid."
    assert english.headers["content-language"] == "en"


async def test_domain_error_carries_its_slug_and_extras(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/probe/conflict")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "teapot-empty"
    assert body["pot"] == "empty"
    assert body["instance"] == "/probe/conflict"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_oversized_body_is_413_before_reading(probe_client: httpx.AsyncClient) -> None:
    big = b'{"quantity": 1, "note": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await probe_client.post(
        "/probe", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


async def test_oversized_chunked_body_is_413(probe_client: httpx.AsyncClient) -> None:
    async def chunks():
        yield b'{"quantity": 1, "note": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = await probe_client.post(
        "/probe", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_html_and_sql_in_strings_are_just_text(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/probe", json={"quantity": 1, "note": "<b>'; DROP"})
    assert response.status_code == 200
