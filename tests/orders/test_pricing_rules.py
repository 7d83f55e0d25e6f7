"""The pure rules of checkout amounts and rewards, without a database."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from jangteo.orders.schemas import PlaceOrderRequest
from jangteo.orders.service import (
    CheckoutRules,
    PointsOverLimit,
    compute_totals,
    points_limit,
    purchase_reward,
)

RULES = CheckoutRules(shipping_fee=3000, free_shipping_threshold=50000)


def test_shipping_is_charged_below_the_threshold_and_free_from_it() -> None:
    assert compute_totals(49999, 0, 0, RULES).shipping_fee == 3000
    assert compute_totals(50000, 0, 0, RULES).shipping_fee == 0
    assert compute_totals(49999, 0, 0, RULES).total == 52999


def test_the_threshold_is_judged_after_the_coupon_and_before_points() -> None:
    after_coupon = compute_totals(55000, 10000, 0, RULES)
    assert after_coupon.shipping_fee == 3000
    assert after_coupon.total == 48000
    with_points = compute_totals(60000, 0, 20000, RULES)
    assert with_points.shipping_fee == 0
    assert with_points.total == 40000


def test_points_pay_for_goods_only_never_shipping() -> None:
    assert points_limit(10000, 2000) == 8000
    totals = compute_totals(10000, 2000, 8000, RULES)
    assert totals.total == 3000
    with pytest.raises(PointsOverLimit) as refused:
        compute_totals(10000, 2000, 8001, RULES)
    assert refused.value.extra == {"max_points": 8000}


def test_everything_paid_by_points_above_the_threshold_costs_nothing() -> None:
    assert compute_totals(50000, 0, 50000, RULES).total == 0


def test_a_discount_never_exceeds_the_subtotal() -> None:
    totals = compute_totals(5000, 9000, 0, RULES)
    assert totals.discount == 5000
    assert totals.total == 3000


@given(
    subtotal=st.integers(0, 10**9),
    discount=st.integers(0, 10**9),
    points_share=st.floats(0, 1),
)
def test_totals_always_add_up_and_are_never_negative(
    subtotal: int, discount: int, points_share: float
) -> None:
    points = int(points_limit(subtotal, min(discount, subtotal)) * points_share)
    totals = compute_totals(subtotal, discount, points, RULES)
    assert totals.total >= 0
    assert totals.total == (
        totals.subtotal - totals.discount - totals.points_used + totals.shipping_fee
    )
    assert totals.shipping_fee in (0, RULES.shipping_fee)


def test_purchase_reward_is_a_percent_of_what_was_paid_for_goods() -> None:
    assert purchase_reward(43000, 3000, 1) == 400
    assert purchase_reward(99999, 0, 1) == 999  # rounded down to the point
    assert purchase_reward(3000, 3000, 1) == 0
    assert purchase_reward(0, 0, 5) == 0


def _request(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "lines": [{"variant_id": str(uuid.uuid4()), "quantity": 1}],
        "payment_method": "card",
        "address": {
            "recipient": "김장터",
            "phone": "010-1234-5678",
            "postal_code": "04524",
            "line1": "서울 중구",
        },
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"address": None}, id="no-address"),
        pytest.param({"cart_id": str(uuid.uuid4())}, id="cart-and-lines"),
        pytest.param({"lines": None}, id="neither-cart-nor-lines"),
        pytest.param(
            {"coupon_code": "A1B2", "member_coupon_id": str(uuid.uuid4())}, id="two-coupons"
        ),
        pytest.param({"address_id": str(uuid.uuid4())}, id="two-addresses"),
        pytest.param({"payment_method": None}, id="no-payment-method"),
    ],
)
def test_placement_body_needs_one_of_each_source(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PlaceOrderRequest.model_validate(_request(**fields))


def test_placement_body_accepts_a_saved_address_instead() -> None:
    parsed = PlaceOrderRequest.model_validate(_request(address=None, address_id=str(uuid.uuid4())))
    assert parsed.address is None
