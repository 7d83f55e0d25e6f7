"""Uploaded images: kind by content, metadata dropped, limits, thumbnails, local storage."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from jangteo.bootstrap import build_platform
from jangteo.core.errors import PayloadTooLarge
from jangteo.core.media import (
    CleanImage,
    ImageTooLarge,
    ImageTooSmall,
    LocalMediaStorage,
    UnsupportedImage,
    clean_image,
    discard_image,
    make_thumbnail,
    store_image,
)
from jangteo.settings import Settings

RED, BLUE = (220, 20, 40), (20, 40, 220)
ROTATE_90_CLOCKWISE = 6  # EXIF Orientation: the camera was turned; show it turned back


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 20), **save: object) -> bytes:
    """Red on the left half, blue on the right, so that a rotation shows."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, format=kind, **save)  # type: ignore[arg-type]
    return out.getvalue()


def phone_photo(size: tuple[int, int] = (40, 20)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = ROTATE_90_CLOCKWISE
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0)}  # GPSInfo: where the photo was taken
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPSLatitude 37,33.59N</x:xmpmeta>'
    return picture("JPEG", size, exif=exif.tobytes(), xmp=xmp, comment=b"shot at home")


def animation(frames: int = 3, size: tuple[int, int] = (30, 20)) -> bytes:
    images = [Image.new("RGB", size, (40 * n, 80, 120)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of data never fill (a bomb's header)."""
    real = picture("PNG", (1, 1))
    ihdr = struct.pack(">II", width, height) + real[24:29]
    chunk = b"IHDR" + ihdr
    return real[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(image.info)
    assert b"GPSLatitude" not in data and b"shot at home" not in data and b"TestCam" not in data


# ---- clean_image -----------------------------------------------------------------------------


def test_a_phone_photo_loses_its_exif_and_is_turned_upright() -> None:
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif()[0x0112] == ROTATE_90_CLOCKWISE
        assert {"exif", "xmp", "comment"} <= set(check.info)

    clean = clean_image(original, max_pixels=10_000)

    assert (clean.extension, clean.content_type) == ("jpg", "image/jpeg")
    assert (clean.width, clean.height) == (20, 40)
    assert_no_metadata(clean.data)
    stored = opened(clean.data).convert("RGB")
    assert stored.size == (20, 40)
    # turned a quarter clockwise: what was the left half (red) is now the top
    top, bottom = stored.getpixel((10, 5)), stored.getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize(
    ("kind", "extension", "content_type"),
    [
        ("PNG", "png", "image/png"),
        ("WEBP", "webp", "image/webp"),
        ("GIF", "gif", "image/gif"),
        ("JPEG", "jpg", "image/jpeg"),
    ],
)
def test_the_kind_comes_from_the_content(kind: str, extension: str, content_type: str) -> None:
    clean = clean_image(picture(kind), max_pixels=10_000)
    assert (clean.extension, clean.content_type) == (extension, content_type)
    assert opened(clean.data).format == kind
    assert (clean.width, clean.height) == (40, 20)


def test_an_animation_keeps_its_frames() -> None:
    clean = clean_image(animation(frames=3), max_pixels=10_000)
    assert clean.extension == "gif"
    assert getattr(opened(clean.data), "n_frames", 1) == 3


@pytest.mark.parametrize(
    "content",
    [
        b"this is only text pretending to be an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature and nothing after it
        b"",
    ],
)
def test_what_is_not_an_image_is_refused(content: bytes) -> None:
    with pytest.raises(UnsupportedImage):
        clean_image(content, max_pixels=10_000)


def test_a_kind_outside_the_list_is_refused() -> None:
    with pytest.raises(UnsupportedImage):
        clean_image(picture("BMP"), max_pixels=10_000)


def test_too_many_pixels_is_too_large() -> None:
    with pytest.raises(ImageTooLarge) as raised:
        clean_image(picture("PNG", (101, 100)), max_pixels=100 * 100)
    assert raised.value.extra == {"max_pixels": 100 * 100}
    assert clean_image(picture("PNG", (100, 100)), max_pixels=100 * 100).width == 100


def test_a_decompression_bomb_is_too_large_before_it_is_decoded() -> None:
    bomb = png_claiming(60_000, 60_000)
    assert len(bomb) < 100
    with pytest.raises(ImageTooLarge):
        clean_image(bomb, max_pixels=100 * 100)
    # past Pillow's own limit, even when the caller's limit would allow it
    with pytest.raises(ImageTooLarge):
        clean_image(bomb, max_pixels=60_000 * 60_000)


def test_sides_and_bytes_have_limits() -> None:
    wide = picture("PNG", (300, 10))
    with pytest.raises(ImageTooLarge) as raised:
        clean_image(wide, max_pixels=10_000, max_side=200)
    assert raised.value.extra == {"max_side": 200}
    assert clean_image(wide, max_pixels=10_000, max_side=300).width == 300
    with pytest.raises(ImageTooSmall):
        clean_image(wide, max_pixels=10_000, min_side=20)
    with pytest.raises(PayloadTooLarge):
        clean_image(wide, max_pixels=10_000, max_bytes=len(wide) - 1)
    assert clean_image(wide, max_pixels=10_000, max_bytes=len(wide)).height == 10


# ---- make_thumbnail --------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "extension"), [("JPEG", "jpg"), ("WEBP", "webp"), ("PNG", "png")])
def test_a_thumbnail_is_smaller_keeps_its_shape_and_its_kind(kind: str, extension: str) -> None:
    clean = clean_image(picture(kind, (400, 200)), max_pixels=1_000_000)
    thumb = make_thumbnail(clean, max_side=100)
    assert (thumb.width, thumb.height) == (100, 50)
    assert thumb.extension == extension
    image = opened(thumb.data)
    assert image.format == kind and image.size == (100, 50)

    tall = make_thumbnail(picture(kind, (200, 400)), max_side=100)
    assert (tall.width, tall.height) == (50, 100)


def test_a_thumbnail_is_never_enlarged() -> None:
    thumb = make_thumbnail(picture("PNG", (40, 20)), max_side=320)
    assert (thumb.width, thumb.height) == (40, 20)
    assert opened(thumb.data).size == (40, 20)


def test_a_thumbnail_of_a_photo_has_no_metadata_and_stands_upright() -> None:
    thumb = make_thumbnail(phone_photo((400, 200)), max_side=100)
    assert (thumb.width, thumb.height) == (50, 100)
    assert_no_metadata(thumb.data)


def test_a_thumbnail_of_an_animation_is_its_first_frame() -> None:
    thumb = make_thumbnail(CleanImage(animation(frames=3), "gif", "image/gif", 30, 20), max_side=15)
    image = opened(thumb.data)
    assert (thumb.extension, thumb.content_type) == ("png", "image/png")
    assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1
    assert image.size == (15, 10)
    assert image.convert("RGB").getpixel((7, 5)) == pytest.approx((0, 80, 120), abs=8)


def test_a_transparent_gif_gives_a_transparent_thumbnail() -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    out = io.BytesIO()
    image.save(out, format="GIF", transparency=0)
    thumb = opened(make_thumbnail(out.getvalue(), max_side=20).data)
    assert thumb.mode == "RGBA" and thumb.size == (20, 20)
    left, right = thumb.getpixel((2, 10)), thumb.getpixel((18, 10))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[3] == 255 and right[3] == 0


def test_thumbnails_refuse_what_is_not_an_image() -> None:
    with pytest.raises(UnsupportedImage):
        make_thumbnail(b"<svg/>", max_side=100)
    with pytest.raises(ImageTooLarge):
        make_thumbnail(png_claiming(60_000, 60_000), max_side=100)


# ---- storage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "products/../../outside.jpg",
        "products/..",
        "/etc/passwd",
        "products\\..\\outside.jpg",
        "C:/outside.jpg",
        "products//a.jpg",
        "products/.hidden",
        "",
    ],
)
async def test_storage_refuses_keys_that_could_leave_the_media_dir(
    tmp_path: Path, key: str
) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    with pytest.raises(ValueError):
        await storage.put(key, b"x", "image/jpeg")
    with pytest.raises(ValueError):
        storage.url_for(key)
    assert not (tmp_path / "outside.jpg").exists()


async def test_storage_writes_under_the_media_dir_and_deletes(tmp_path: Path) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    url = await storage.put("community/a1b2.png", b"png bytes", "image/png")
    path = tmp_path / "media" / "community" / "a1b2.png"
    assert url == "/media/community/a1b2.png" == storage.url_for("community/a1b2.png")
    assert path.read_bytes() == b"png bytes"
    assert [p.name for p in path.parent.iterdir()] == ["a1b2.png"]  # no temporary file left

    await storage.delete(url)
    assert not path.exists()
    await storage.put("community/c3d4.png", b"x", "image/png")
    await storage.delete("community/c3d4.png")  # by key as well as by URL
    assert not (path.parent / "c3d4.png").exists()
    await storage.delete("community/c3d4.png")  # already gone: nothing to do

    kept = await storage.put("community/e5f6.png", b"x", "image/png")
    await storage.delete("https://cdn.example.com/community/e5f6.png")  # not stored here
    await storage.delete("/elsewhere/community/e5f6.png")
    assert (tmp_path / "media" / "community" / "e5f6.png").exists()
    with pytest.raises(ValueError):
        await storage.delete("/media/../outside.jpg")
    assert kept == "/media/community/e5f6.png"


# ---- store_image -----------------------------------------------------------------------------


async def test_store_image_writes_the_clean_original_and_each_thumbnail(tmp_path: Path) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    stored = await store_image(
        storage,
        phone_photo((1200, 600)),
        folder="community",
        max_pixels=2_000_000,
        thumb_sides=(100, 300),
    )
    assert (stored.width, stored.height, stored.content_type) == (600, 1200, "image/jpeg")
    assert stored.url.startswith("/media/community/") and stored.url.endswith(".jpg")
    assert set(stored.thumbnails) == {100, 300}

    def file_of(url: str) -> Path:
        return tmp_path / "media" / url.removeprefix("/media/")

    original = file_of(stored.url).read_bytes()
    assert_no_metadata(original)
    assert opened(original).size == (600, 1200)
    for side, url in stored.thumbnails.items():
        data = file_of(url).read_bytes()
        assert_no_metadata(data)
        assert opened(data).size == (side // 2, side)
    assert len(list((tmp_path / "media" / "community").iterdir())) == 3

    await discard_image(storage, stored)
    assert list((tmp_path / "media" / "community").iterdir()) == []


async def test_store_image_leaves_nothing_when_a_write_fails(tmp_path: Path) -> None:
    class FailingSecondWrite(LocalMediaStorage):
        writes = 0

        async def put(self, key: str, data: bytes, content_type: str) -> str:
            self.writes += 1
            if self.writes == 2:
                raise OSError("disk full")
            return await super().put(key, data, content_type)

    storage = FailingSecondWrite(tmp_path / "media")
    with pytest.raises(OSError, match="disk full"):
        await store_image(storage, picture("PNG"), folder="community", max_pixels=10_000)
    assert list((tmp_path / "media" / "community").iterdir()) == []


async def test_a_refused_upload_stores_nothing(tmp_path: Path) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    with pytest.raises(UnsupportedImage):
        await store_image(storage, b"<svg/>", folder="community", max_pixels=10_000)
    assert not (tmp_path / "media").exists()


async def test_the_platform_offers_the_media_storage(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")  # type: ignore[call-arg]
    platform = build_platform(settings)
    try:
        storage = platform.adapters["media"]
        assert isinstance(storage, LocalMediaStorage)
        assert storage.media_dir == settings.media_dir
    finally:
        await platform.db.dispose()
        await platform.cache.close()
