"""Stock for other domains: reserve, release, snapshots and sales counts, ledger-true throughout."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from tests.factories.catalog import make_product, variant_stock

from jangteo.catalog import reads, service
from jangteo.catalog.models import StockMovement
from jangteo.core.errors import DomainError
from jangteo.core.platform import Platform


async def ledger_sum(platform: Platform, variant_id: str | uuid.UUID) -> int:
    async with platform.db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                StockMovement.variant_id == uuid.UUID(str(variant_id))
            )
        )
    return int(total or 0)


async def reserve(
    platform: Platform, lines: list[tuple[str, int]], reference: str
) -> DomainError | None:
    """Reserve in a unit of work of its own; the error it raised, if any."""
    try:
        async with platform.db.write() as session:
            await service.reserve_stock(
                session,
                platform.clock,
                [(uuid.UUID(v), q) for v, q in lines],
                reference=reference,
            )
    except DomainError as exc:
        return exc
    return None


async def release(platform: Platform, lines: list[tuple[str, int]], reference: str) -> bool:
    async with platform.db.write() as session:
        return await service.release_stock(
            session, platform.clock, [(uuid.UUID(v), q) for v, q in lines], reference=reference
        )


async def test_reserve_takes_stock_and_release_gives_it_back_once(platform: Platform) -> None:
    ref = await make_product(platform, stock=10)
    variant = ref.variant_ids[0]

    assert await reserve(platform, [(variant, 3)], "order:1") is None
    assert await variant_stock(platform, variant) == 7
    # the same reference again takes nothing more
    assert await reserve(platform, [(variant, 3)], "order:1") is None
    assert await variant_stock(platform, variant) == 7

    assert await release(platform, [(variant, 3)], "order:1") is True
    assert await variant_stock(platform, variant) == 10
    assert await release(platform, [(variant, 3)], "order:1") is False
    assert await variant_stock(platform, variant) == 10
    # nothing was reserved under this reference: nothing to give back
    assert await release(platform, [(variant, 5)], "order:never") is False
    assert await variant_stock(platform, variant) == 10
    assert await ledger_sum(platform, variant) == 10


async def test_release_never_returns_more_than_was_reserved(platform: Platform) -> None:
    ref = await make_product(platform, stock=5)
    variant = ref.variant_ids[0]
    assert await reserve(platform, [(variant, 2)], "order:2") is None
    assert await release(platform, [(variant, 50)], "order:2") is True
    assert await variant_stock(platform, variant) == 5 == await ledger_sum(platform, variant)


async def test_out_of_stock_rolls_back_every_line(platform: Platform) -> None:
    plenty = await make_product(platform, name="넉넉", stock=10)
    scarce = await make_product(platform, name="부족", stock=1)
    lines = [(plenty.variant_ids[0], 2), (scarce.variant_ids[0], 2)]

    error = await reserve(platform, lines, "order:3")
    assert error is not None
    assert error.slug == "out-of-stock" and error.status == 409
    assert error.extra == {"variant_id": scarce.variant_ids[0]}
    assert await variant_stock(platform, plenty.variant_ids[0]) == 10
    assert await variant_stock(platform, scarce.variant_ids[0]) == 1
    assert await ledger_sum(platform, plenty.variant_ids[0]) == 10


async def test_reserving_an_unknown_variant_is_out_of_stock(platform: Platform) -> None:
    unknown = str(uuid.uuid4())
    error = await reserve(platform, [(unknown, 1)], "order:4")
    assert error is not None and error.slug == "out-of-stock"
    assert error.extra == {"variant_id": unknown}


async def test_lines_of_the_same_variant_add_up(platform: Platform) -> None:
    ref = await make_product(platform, stock=5)
    variant = ref.variant_ids[0]
    error = await reserve(platform, [(variant, 3), (variant, 3)], "order:5")
    assert error is not None and error.slug == "out-of-stock"
    assert await reserve(platform, [(variant, 2), (variant, 3)], "order:6") is None
    assert await variant_stock(platform, variant) == 0


@pytest.mark.parametrize("quantity", [0, -1])
async def test_quantities_must_be_positive(platform: Platform, quantity: int) -> None:
    ref = await make_product(platform, stock=5)
    error = await reserve(platform, [(ref.variant_ids[0], quantity)], "order:7")
    assert error is not None and error.status == 422
    assert await variant_stock(platform, ref.variant_ids[0]) == 5


async def test_fifty_buyers_for_ten_units_never_oversell(platform: Platform) -> None:
    ref = await make_product(platform, stock=10)
    variant = ref.variant_ids[0]

    results = await asyncio.gather(
        *(reserve(platform, [(variant, 1)], f"order:race-{n}") for n in range(50))
    )

    succeeded = [r for r in results if r is None]
    refused = [r for r in results if r is not None]
    assert len(succeeded) == 10
    assert len(refused) == 40 and {r.slug for r in refused} == {"out-of-stock"}
    assert await variant_stock(platform, variant) == 0
    assert await ledger_sum(platform, variant) == 0
    async with platform.db.read() as session:
        reservations = await session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.reason == "order.reserve")
        )
    assert reservations == 10


async def test_concurrent_releases_of_one_reference_give_back_once(platform: Platform) -> None:
    ref = await make_product(platform, stock=4)
    variant = ref.variant_ids[0]
    assert await reserve(platform, [(variant, 4)], "order:8") is None
    outcomes = await asyncio.gather(
        *(release(platform, [(variant, 4)], "order:8") for _ in range(8))
    )
    assert outcomes.count(True) == 1
    assert await variant_stock(platform, variant) == 4 == await ledger_sum(platform, variant)


async def test_snapshots_describe_what_an_order_line_needs(platform: Platform) -> None:
    ref = await make_product(
        platform,
        name="울 니트",
        price=30000,
        list_price=40000,
        brand_name="Nike",
        variants=[
            {"options": {"사이즈": "S"}, "stock": 2},
            {"options": {"사이즈": "M"}, "stock": 0, "price": 32000},
        ],
    )
    draft = await make_product(platform, name="준비중", status="draft")
    async with platform.db.write() as session:
        await service.add_product_image(
            session,
            platform.clock,
            uuid.UUID(ref.product_id),
            url="https://cdn.example.com/knit.jpg",
        )
    small, medium = (uuid.UUID(v) for v in ref.variant_ids)
    hidden = uuid.UUID(draft.variant_ids[0])
    missing = uuid.uuid4()
    async with platform.db.read() as session:
        snapshots = await service.variant_snapshots(session, [small, medium, hidden, missing])

    assert set(snapshots) == {small, medium, hidden}
    assert snapshots[small] == service.VariantSnapshot(
        id=small,
        product_id=uuid.UUID(ref.product_id),
        product_name="울 니트",
        brand_name="Nike",
        category_id=uuid.UUID(ref.category_id),
        options={"사이즈": "S"},
        price=30000,
        list_price=40000,
        stock=2,
        sellable=True,
        image_url="https://cdn.example.com/knit.jpg",
    )
    assert snapshots[medium].price == 32000 and snapshots[medium].stock == 0
    assert snapshots[hidden].sellable is False
    assert snapshots[hidden].image_url is None
    async with platform.db.read() as session:
        assert await service.variant_snapshots(session, []) == {}


async def test_sales_counts_make_popularity(platform: Platform) -> None:
    first = await make_product(platform, name="가")
    second = await make_product(platform, name="나")
    async with platform.db.write() as session:
        await service.record_sales(session, {uuid.UUID(first.product_id): 3})
        await service.record_sales(session, {uuid.UUID(second.product_id): 5})
        await service.record_sales(session, {uuid.UUID(second.product_id): -4})
        await service.record_sales(session, {uuid.UUID(first.product_id): -10})
    page = await reads.product_page(platform.db.reader, sort="popular")
    assert [item["name"] for item in page["items"]] == ["나", "가"]


def test_discount_rate_never_overstates() -> None:
    assert reads.discount_rate(39000, 59000) == 33
    assert reads.discount_rate(100, 100) == 0
    assert reads.discount_rate(0, 0) == 0
    assert reads.discount_rate(1, 3) == 66


def test_slugs_keep_hangul_and_drop_the_rest() -> None:
    assert service.slugify("무신사 스탠다드") == "무신사-스탠다드"
    assert service.slugify("B&B  Studio!") == "b-b-studio"
    assert service.slugify("🧶") == ""
