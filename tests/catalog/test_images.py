"""Product images: uploads checked by content and cleaned of EXIF, served under /media; URLs."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product

from jangteo.app import create_app
from jangteo.core.platform import Platform


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 30), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 60))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "TestCam"  # Make
        data[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0)}  # GPSInfo: where the photo was taken
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPSLatitude 37,33.59N</x:xmpmeta>'
        image.save(out, format=kind, exif=data.tobytes(), xmp=xmp, comment=b"shot at home")
    else:
        image.save(out, format=kind)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    staff: Member,
    ref: ProductRef,
    data: bytes,
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
    alt: str = "니트 앞면",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/admin/products/{ref.product_id}/images",
        files={"file": (filename, data, content_type)},
        data={"alt": alt},
        headers=staff.headers,
    )


@pytest.fixture
async def small_limits_client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose upload and pixel limits are small, to test them cheaply."""
    platform.settings.max_upload_bytes = 64 * 1024
    platform.settings.max_image_pixels = 100 * 100
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_an_uploaded_png_is_stored_served_and_shown(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    response = await upload(client, staff, ref, picture("PNG"))
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["url"].startswith("/media/products/") and image["url"].endswith(".png")
    assert image["alt"] == "니트 앞면"

    served = await client.get(image["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as stored:
        assert stored.format == "PNG" and stored.size == (40, 30)

    detail = (await client.get(f"/api/v1/products/{ref.product_id}")).json()
    assert [i["url"] for i in detail["images"]] == [image["url"]]
    listed = (await client.get("/api/v1/products")).json()["items"][0]
    assert listed["image"] == {"url": image["url"], "alt": "니트 앞면"}

    removed = await client.delete(
        f"/api/v1/admin/products/{ref.product_id}/images/{image['id']}", headers=staff.headers
    )
    assert removed.status_code == 204
    assert (await client.get(image["url"])).status_code == 404
    assert (await client.get(f"/api/v1/products/{ref.product_id}")).json()["images"] == []


async def test_exif_is_stripped_and_the_kind_comes_from_the_content(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    original = picture("JPEG", exif=True)
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif()[0x010F] == "TestCam"
        assert {"exif", "xmp", "comment"} <= set(check.info)

    # a JPEG sent under a PNG name and type is still a JPEG
    response = await upload(client, staff, ref, original, filename="photo.png")
    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith(".jpg")
    served = await client.get(response.json()["url"])
    with Image.open(io.BytesIO(served.content)) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert not {"exif", "xmp", "comment"} & set(stored.info)
    assert b"GPSLatitude" not in served.content and b"shot at home" not in served.content


@pytest.mark.parametrize("kind", ["WEBP", "GIF"])
async def test_webp_and_gif_are_accepted(
    platform: Platform, client: httpx.AsyncClient, kind: str
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    response = await upload(client, staff, ref, picture(kind), filename="a.bin")
    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith("." + kind.lower())


@pytest.mark.parametrize(
    "content",
    [
        b"this is only text pretending to be an image",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature and nothing after it
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"",
    ],
)
async def test_non_images_are_refused_whatever_their_name(
    platform: Platform, client: httpx.AsyncClient, content: bytes
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    response = await upload(client, staff, ref, content, filename="photo.png")
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported-image"
    assert (await client.get(f"/api/v1/products/{ref.product_id}")).json()["images"] == []


async def test_a_bmp_is_not_an_accepted_kind(platform: Platform, client: httpx.AsyncClient) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    response = await upload(client, staff, ref, picture("BMP"), filename="photo.bmp")
    assert response.status_code == 415


async def test_oversized_uploads_and_images_are_413(
    platform: Platform, client: httpx.AsyncClient, small_limits_client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    too_big = await upload(small_limits_client, staff, ref, b"\x00" * (80 * 1024))
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload-too-large"

    too_many_pixels = await upload(small_limits_client, staff, ref, picture("PNG", (200, 200)))
    assert too_many_pixels.status_code == 413
    assert too_many_pixels.json()["code"] == "image-too-large"

    fine = await upload(small_limits_client, staff, ref, picture("PNG", (100, 100)))
    assert fine.status_code == 201


async def test_images_need_staff_and_an_existing_product(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    as_member = await upload(client, member, ref, picture())
    assert as_member.status_code == 403
    missing = ProductRef("018f0000-0000-7000-8000-000000000000", [], "", "")
    assert (await upload(client, staff, missing, picture())).status_code == 404
    no_file = await client.post(
        f"/api/v1/admin/products/{ref.product_id}/images", headers=staff.headers
    )
    assert no_file.status_code == 422


async def test_an_image_can_be_added_by_https_url_only(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    path = f"/api/v1/admin/products/{ref.product_id}/images/by-url"
    added = await client.post(
        path,
        json={"url": "https://cdn.example.com/니트.jpg", "alt": "니트"},
        headers=staff.headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["url"].startswith("https://cdn.example.com/")
    for url in (
        "http://cdn.example.com/a.jpg",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "https://",
        "https://example.com/" + "a" * 1000,
    ):
        response = await client.post(path, json={"url": url}, headers=staff.headers)
        assert response.status_code == 422, url
    detail = (await client.get(f"/api/v1/products/{ref.product_id}")).json()
    assert len(detail["images"]) == 1


async def test_unknown_media_files_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/media/products/nothing.png", "/media/../pyproject.toml", "/media/%2e%2e/x"):
        response = await client.get(path)
        assert response.status_code == 404, path
