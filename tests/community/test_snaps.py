"""Photos and styling snaps: uploads cleaned of EXIF/GPS, size and rate limits, signed image
tokens that only their uploader can use, product tags checked against the catalog, and the
product page's community tab (members-only spaces and blocked members left out)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
from PIL import ExifTags, Image
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import TRUSTED_FROM_THE_START, join, make_space
from tests.factories.orders import log_in_again, points_of

from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform

# the photo's maker and where it was taken: neither may survive the upload
CAMERA = "JangteoCam-9000"


def photo_bytes(size: tuple[int, int] = (64, 48), *, gps: bool = True) -> bytes:
    """A JPEG carrying EXIF with the camera's name and a GPS position (Seoul City Hall)."""
    image = Image.new("RGB", size, (200, 120, 80))
    exif = image.getexif()
    exif[ExifTags.Base.Make] = CAMERA
    if gps:
        where = exif.get_ifd(ExifTags.IFD.GPSInfo)
        where[ExifTags.GPS.GPSLatitudeRef] = "N"
        where[ExifTags.GPS.GPSLatitude] = (37.0, 33.0, 59.0)
        where[ExifTags.GPS.GPSLongitudeRef] = "E"
        where[ExifTags.GPS.GPSLongitude] = (126.0, 58.0, 41.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient, member: Member, data: bytes | None = None
) -> httpx.Response:
    return await client.post(
        "/api/v1/community/images",
        files={"file": ("photo.jpg", data or photo_bytes(), "image/jpeg")},
        headers=member.headers,
    )


async def upload_photo(client: httpx.AsyncClient, member: Member) -> str:
    """Upload a photo as `member`; its token."""
    response = await upload(client, member)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def post_snap(
    client: httpx.AsyncClient, member: Member, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/snaps",
        json={"body": "오늘의 코디 #데일리룩", **body},
        headers={**member.headers, **headers},
    )


async def snap_ids(client: httpx.AsyncClient, product_id: str, member: Member | None) -> list[str]:
    """Every page of a product's snaps, one at a time to walk the cursor."""
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/v1/products/{product_id}/snaps",
            params=params,
            headers=member.headers if member else {},
        )
        assert response.status_code == 200, response.text
        ids.extend(item["post"]["id"] for item in response.json()["items"])
        cursor = response.json()["next_cursor"]
        if not cursor:
            return ids


def stored_file(platform: Platform, url: str) -> Path:
    return platform.adapters["media"].path_for(url.removeprefix("/media/"))


async def test_uploaded_photos_lose_their_exif_and_gps(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    original = photo_bytes((1200, 900))
    with Image.open(io.BytesIO(original)) as check:  # the test photo does carry them
        assert check.getexif()[ExifTags.Base.Make] == CAMERA
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    response = await upload(client, member, original)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (1200, 900)
    assert body["url"].startswith("/media/community/")
    assert body["token"]

    stored = stored_file(platform, body["url"]).read_bytes()
    assert CAMERA.encode() not in stored
    assert b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.size == (1200, 900)
    thumbnail = stored_file(platform, body["thumbnail_url"]).read_bytes()
    assert CAMERA.encode() not in thumbnail
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert max(image.size) == 480
        assert dict(image.getexif()) == {}

    # the content decides: a text file named .jpg is refused, as is a visitor
    fake = await client.post(
        "/api/v1/community/images",
        files={"file": ("photo.jpg", b"<?php echo 'hi'; ?>", "image/jpeg")},
        headers=member.headers,
    )
    assert fake.status_code == 415
    assert fake.json()["type"].endswith("/unsupported-image")
    anonymous = await client.post(
        "/api/v1/community/images", files={"file": ("photo.jpg", photo_bytes(), "image/jpeg")}
    )
    assert anonymous.status_code == 401


async def test_uploads_are_limited_in_size_and_rate(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(
        backend,
        tmp_path,
        **TRUSTED_FROM_THE_START,
        max_upload_bytes=20_000,
        community_image_uploads_per_hour=3,
    )
    platform = build_platform(settings, clock)
    try:
        app = create_app(settings, platform=platform)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            member = await signup_member(client)
            other = await signup_member(client)
            noise = Image.effect_noise((400, 400), 120).convert("RGB")
            out = io.BytesIO()
            noise.save(out, format="JPEG", quality=95)
            assert len(out.getvalue()) > 20_000
            too_big = await upload(client, member, out.getvalue())
            assert too_big.status_code == 413
            assert too_big.json()["type"].endswith("/payload-too-large")
            # refused before it was read, so it does not count against the member
            for _ in range(3):
                assert (await upload(client, member)).status_code == 201
            limited = await upload(client, member)
            assert limited.status_code == 429
            assert limited.json()["type"].endswith("/rate-limited")
            assert int(limited.headers["retry-after"]) > 0
            # the limit is per member
            assert (await upload(client, other)).status_code == 201
    finally:
        await platform.cache.close()
        await platform.db.dispose()


async def test_snap_tags_products_that_link_to_the_shop(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    knit = await make_product(
        platform,
        name="캐시미어 니트",
        price=59000,
        variants=[
            {"options": {"색상": "베이지"}, "stock": 5},
            {"options": {"색상": "네이비"}, "stock": 5},
        ],
    )
    bag = await make_product(platform, name="미니 크로스백", price=32000, category_name="가방")
    member = await signup_member(client)
    first, second = await upload_photo(client, member), await upload_photo(client, member)

    created = await post_snap(
        client,
        member,
        {
            "title": "가을 코디",
            "images": [first, second],
            "tags": [
                {
                    "image": 0,
                    "product_id": knit.product_id,
                    "variant_id": knit.variant_ids[1],
                    "x": 0.25,
                    "y": 0.5,
                },
                {"image": 1, "product_id": bag.product_id, "x": 1, "y": 0},
                # more on the first photo: they come back in the order given
                *[
                    {"image": 0, "product_id": bag.product_id, "x": x / 10, "y": 0.9}
                    for x in range(9, 0, -1)
                ],
            ],
        },
    )
    assert created.status_code == 201, created.text
    snap = created.json()
    post = snap["post"]
    assert post["kind"] == "snap"
    assert (post["space"]["slug"], post["board"]["slug"]) == ("shop", "snaps")
    assert post["hashtags"] == ["데일리룩"]
    assert len(snap["images"]) == 2
    assert [t["x"] for t in snap["images"][0]["tags"]] == [0.25, *(x / 10 for x in range(9, 0, -1))]
    assert snap["images"][0]["tags"][0] == {
        "product": {
            "id": knit.product_id,
            "name": "캐시미어 니트",
            "price": 59000,
            "image": None,
            "on_sale": True,
        },
        "variant_id": knit.variant_ids[1],
        "x": 0.25,
        "y": 0.5,
    }
    assert [t["product"]["name"] for t in snap["images"][1]["tags"]] == ["미니 크로스백"]
    assert snap["images"][1]["thumbnail_url"].endswith(".jpg")

    shown = await client.get(f"/api/v1/snaps/{post['id']}")
    assert shown.status_code == 200
    assert shown.json()["images"] == snap["images"]
    # a snap earns its own points, through the wallet
    assert await points_of(client, member) == platform.settings.community_snap_points == 30
    # a post that is not a snap is not one
    text = await client.post(
        "/api/v1/spaces/shop/boards/snaps/posts", json={"body": "글만"}, headers=member.headers
    )
    assert (await client.get(f"/api/v1/snaps/{text.json()['id']}")).status_code == 404


async def test_bad_tags_and_image_lists_are_refused_and_change_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    other_product = await make_product(platform, name="울 머플러")
    draft = await make_product(platform, name="출시 예정 코트", status="draft")
    member = await signup_member(client)
    token = await upload_photo(client, member)

    def tag(**overrides: Any) -> dict[str, Any]:
        return {"image": 0, "product_id": product.product_id, "x": 0.5, "y": 0.5, **overrides}

    unknown = await post_snap(
        client,
        member,
        {
            "images": [token],
            "tags": [tag(), tag(product_id="0190f5e4-0000-7000-8000-000000000000")],
        },
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("/tagged-product-unavailable")
    assert unknown.json()["errors"] == [{"pointer": "/body/tags/1/product_id"}]
    not_on_sale = await post_snap(
        client, member, {"images": [token], "tags": [tag(product_id=draft.product_id)]}
    )
    assert not_on_sale.status_code == 422
    assert not_on_sale.json()["type"].endswith("/tagged-product-unavailable")
    wrong_variant = await post_snap(
        client, member, {"images": [token], "tags": [tag(variant_id=other_product.variant_ids[0])]}
    )
    assert wrong_variant.status_code == 422
    assert wrong_variant.json()["errors"] == [{"pointer": "/body/tags/0/variant_id"}]

    for bad in (
        {"images": [token], "tags": [tag(x=1.01)]},
        {"images": [token], "tags": [tag(y=-0.1)]},
        {"images": [token], "tags": [tag(x="NaN")]},
        {"images": [token], "tags": [tag(image=1)]},
        {"images": [token], "tags": [tag(image=-1)]},
        {"images": [token], "tags": [tag()] * 21},
        {"images": []},
        {"images": [token] * 11},
        {"images": [token], "board": "free"},
        {"images": [token], "body": ""},
        {"images": [token], "price": 1},
    ):
        refused = await post_snap(client, member, bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["type"].endswith("/validation-error")
    malformed = await client.post(
        "/api/v1/snaps",
        content=b'{"body": "x", "images": [',
        headers={**member.headers, "content-type": "application/json"},
    )
    assert malformed.status_code == 400

    # nothing was posted, nothing was paid
    feed = await client.get("/api/v1/feed")
    assert feed.json()["items"] == []
    assert await points_of(client, member) == 0
    # the same tag with good values goes through
    assert (
        await post_snap(client, member, {"images": [token], "tags": [tag()]})
    ).status_code == 201


async def test_image_tokens_cannot_be_forged_borrowed_or_kept_forever(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner, thief = await signup_member(client), await signup_member(client)
    token = await upload_photo(client, owner)

    borrowed = await post_snap(client, thief, {"images": [token]})
    assert borrowed.status_code == 422
    assert borrowed.json()["type"].endswith("/invalid-image-token")
    assert borrowed.json()["errors"] == [{"pointer": "/body/images/0"}]

    # pointing the token at another file (or someone's address) breaks its signature
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["url"] = "https://evil.example/track.gif"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = await post_snap(
        client, owner, {"images": [token, f"{header}.{forged_payload}.{signature}"]}
    )
    assert forged.status_code == 422
    assert forged.json()["errors"] == [{"pointer": "/body/images/1"}]
    # an access token is not an image token, nor is nonsense
    for fake in (owner.access_token, "not-a-token"):
        refused = await post_snap(client, owner, {"images": [fake]})
        assert refused.status_code == 422
        assert refused.json()["type"].endswith("/invalid-image-token")

    # a day later the upload can no longer be attached
    clock.advance(hours=25)
    await log_in_again(client, owner)
    expired = await post_snap(client, owner, {"images": [token]})
    assert expired.status_code == 422
    assert expired.json()["type"].endswith("/invalid-image-token")
    assert await points_of(client, owner) == 0


async def test_product_page_lists_the_snaps_its_viewer_may_see(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    elsewhere = await make_product(platform, name="린넨 셔츠")
    creator = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    stylist, insider, outsider = [await signup_member(client) for _ in range(3)]
    await make_space(client, creator, slug="closet", visibility="members_only")
    for member in (stylist, insider):
        assert (await join(client, member, "closet")).status_code == 200

    async def snap(member: Member, product_id: str, **where: str) -> str:
        token = await upload_photo(client, member)
        tags = [{"image": 0, "product_id": product_id, "x": 0.5, "y": 0.5}]
        response = await post_snap(client, member, {"images": [token], "tags": tags, **where})
        assert response.status_code == 201, response.text
        return str(response.json()["post"]["id"])

    public = await snap(stylist, product.product_id)
    closed = await snap(stylist, product.product_id, space="closet")
    other_product = await snap(insider, elsewhere.product_id)
    by_insider = await snap(insider, product.product_id)
    removed = await snap(insider, product.product_id)
    assert (
        await client.post(
            f"/api/v1/posts/{removed}/remove", json={"reason": "도용 사진"}, headers=staff.headers
        )
    ).status_code == 200

    # newest first; the members-only space's snap only for its members (and staff)
    assert await snap_ids(client, product.product_id, insider) == [by_insider, closed, public]
    assert await snap_ids(client, product.product_id, None) == [by_insider, public]
    assert await snap_ids(client, product.product_id, outsider) == [by_insider, public]
    assert closed in await snap_ids(client, product.product_id, staff)
    assert await snap_ids(client, elsewhere.product_id, None) == [other_product]
    # an outsider cannot open it directly either
    assert (
        await client.get(f"/api/v1/snaps/{closed}", headers=outsider.headers)
    ).status_code == 403
    # a removed snap keeps its reason but shows no photos
    gone = (await client.get(f"/api/v1/snaps/{removed}")).json()
    assert gone["post"]["removed_reason"] == "도용 사진"
    assert gone["images"] == []

    # blocking a member hides their snaps from the blocker
    assert (
        await client.put(f"/api/v1/members/{insider.id}/block", headers=outsider.headers)
    ).status_code == 204
    assert await snap_ids(client, product.product_id, outsider) == [public]

    listed = await client.get(f"/api/v1/products/{product.product_id}/snaps")
    first = listed.json()["items"][0]
    assert first["images"][0]["tags"][0]["product"]["id"] == product.product_id
    unknown = await client.get("/api/v1/products/0190f5e4-0000-7000-8000-000000000000/snaps")
    assert unknown.status_code == 404
    bad_cursor = await client.get(
        f"/api/v1/products/{product.product_id}/snaps", params={"cursor": "!!"}
    )
    assert bad_cursor.status_code == 400


async def test_a_retried_snap_is_posted_and_paid_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    token = await upload_photo(client, member)
    key = {"Idempotency-Key": "snap-retry-1"}
    answers = await asyncio.gather(
        *[post_snap(client, member, {"images": [token]}, **key) for _ in range(3)]
    )
    ok = [a for a in answers if a.status_code == 201]
    assert ok, [a.text for a in answers]
    assert {a.json()["post"]["id"] for a in ok} == {ok[0].json()["post"]["id"]}
    assert all(a.status_code in (201, 409) for a in answers)
    again = await post_snap(client, member, {"images": [token]}, **key)
    assert again.json()["post"]["id"] == ok[0].json()["post"]["id"]
    assert await points_of(client, member) == 30
    # the same key with another body is a mistake, not a replay
    other = await post_snap(client, member, {"images": [token], "title": "다른 글"}, **key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
