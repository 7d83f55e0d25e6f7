"""Uploaded images: checked by their content, cleaned of metadata, thumbnailed and stored.

`clean_image` and `make_thumbnail` are plain functions (CPU work, call them off the event loop);
`store_image` does both off the loop and puts the results in a `MediaStorage`.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from PIL import Image, ImageOps, UnidentifiedImageError

from jangteo.core.errors import PayloadTooLarge, define
from jangteo.core.ids import uuid7

UnsupportedImage = define(
    "unsupported-image", 415, "The file is not a JPEG, PNG, WebP or GIF image."
)
ImageTooLarge = define("image-too-large", 413, "The image has too many pixels.")
ImageTooSmall = define("image-too-small", 422, "The image is too small.")

# the kinds accepted, as Pillow names them, with the extension and type they are served with
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
DEFAULT_THUMB_SIDES = (320, 960)

# what the writers may carry over from the original: how it looks, never who/where/when
_KEPT_IMAGE_INFO = ("transparency", "duration", "loop", "background", "disposal", "icc_profile")
_THUMBNAIL_MODES = {
    "JPEG": {"L", "RGB", "CMYK"},
    "WEBP": {"RGB", "RGBA"},
    "PNG": {"L", "LA", "RGB", "RGBA"},
}
# folders and names of stored files: nothing a path could be made to escape with
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded from its pixels alone."""

    data: bytes
    extension: str  # "jpg", "png", "webp" or "gif"
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredImage:
    url: str
    width: int
    height: int
    content_type: str
    thumbnails: dict[int, str] = field(default_factory=dict)  # longest side -> URL


# ---------------------------------------------------------------------------------------------
# pixels


@contextmanager
def _opened(data: bytes, max_pixels: int) -> Iterator[tuple[Image.Image, str]]:
    """The image and its kind, decided by the content; the problems of a bad upload raised."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in IMAGE_FORMATS:
                raise UnsupportedImage(format=kind or None)
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            if width * height > max_pixels or width * height * frames > max_pixels * 4:
                raise ImageTooLarge(max_pixels=max_pixels)
            yield image, kind
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(max_pixels=max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedImage() from exc


def _encode(picture: Image.Image, kind: str, kept: dict[str, object], *, frames: int) -> CleanImage:
    # the writers copy some metadata (comments) from `info` unless it is gone
    picture.info = dict(kept)
    out = io.BytesIO()
    extra = {"icc_profile": kept["icc_profile"]} if "icc_profile" in kept else {}
    picture.save(out, format=kind, save_all=frames > 1, **extra)
    width, height = picture.size
    return CleanImage(out.getvalue(), IMAGE_FORMATS[kind], CONTENT_TYPES[kind], width, height)


def clean_image(
    data: bytes,
    *,
    max_pixels: int,
    max_bytes: int | None = None,
    min_side: int = 1,
    max_side: int | None = None,
) -> CleanImage:
    """The image re-encoded from its pixels, without EXIF, XMP, comments or other metadata.

    The kind is decided by the content, never by a file name or declared type. Decompression
    bombs and images over `max_pixels` (or with a side over `max_side`) are ImageTooLarge.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise PayloadTooLarge(max_bytes=max_bytes)
    with _opened(data, max_pixels) as (image, kind):
        width, height = image.size
        if max_side is not None and max(width, height) > max_side:
            raise ImageTooLarge(max_side=max_side)
        if min(width, height) < min_side:
            raise ImageTooSmall(min_side=min_side)
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            picture = image  # an animation keeps its frames
        else:
            # turned the way its EXIF says, since the EXIF is about to go
            picture = ImageOps.exif_transpose(image)
            if kind == "JPEG" and picture.mode not in {"RGB", "L", "CMYK"}:
                picture = picture.convert("RGB")
        kept = {k: picture.info[k] for k in _KEPT_IMAGE_INFO if k in picture.info}
        return _encode(picture, kind, kept, frames=frames)


def make_thumbnail(image: bytes | CleanImage, *, max_side: int) -> CleanImage:
    """A still copy at most `max_side` wide and tall, aspect ratio kept, never enlarged.

    JPEG and WebP stay what they are; PNG and GIF become PNG, since resampled pixels no longer
    fit a GIF's palette. An animation gives its first frame. Raw bytes are checked as
    `clean_image` checks them, up to Pillow's decompression bomb limit.
    """
    data = image.data if isinstance(image, CleanImage) else image
    # no caller's limit here: Pillow's bomb threshold, or the app's default when it is off
    limit = Image.MAX_IMAGE_PIXELS or 6000 * 6000
    with _opened(data, limit) as (opened, kind):
        still = getattr(opened, "n_frames", 1) == 1
        target = kind if kind in {"JPEG", "WEBP"} else "PNG"
        picture: Image.Image = opened
        # palettes would be resampled by nearest neighbour only; each writer takes a few modes
        if picture.mode not in _THUMBNAIL_MODES[target]:
            alpha = target != "JPEG" and picture.has_transparency_data
            picture = picture.convert("RGBA" if alpha else "RGB")
        # a square box fits the same size before and after a quarter turn, so the cheap
        # downscale (JPEG draft decoding) comes first and the turn applies to the small copy
        picture.thumbnail((max_side, max_side))
        if still:
            picture = ImageOps.exif_transpose(picture)
        icc = opened.info.get("icc_profile")
        return _encode(picture, target, {"icc_profile": icc} if icc else {}, frames=1)


# ---------------------------------------------------------------------------------------------
# storage


class MediaStorage(Protocol):
    """Where stored files live and the URL each is served at.

    `LocalMediaStorage` writes under the media directory served at /media; an S3-compatible
    object store (a bucket behind a CDN) would implement the same three methods.
    """

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (e.g. `products/<uuid7 hex>.jpg`); returns its URL."""
        ...

    async def delete(self, key_or_url: str) -> None:
        """Remove a file by key or by a URL this storage gave; other URLs are left alone."""
        ...

    def url_for(self, key: str) -> str: ...


def checked_key(key: str) -> str:
    """The key if it is plain names joined by `/`; ValueError otherwise.

    No name starts with a dot, so `..`, hidden files and the temporary files of a write are out,
    as are absolute paths, backslashes, drive letters and empty names.
    """
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class LocalMediaStorage:
    """Files under `media_dir`, served by the app under `url_prefix`."""

    def __init__(self, media_dir: Path | str, url_prefix: str = "/media/") -> None:
        self.media_dir = Path(media_dir)
        self.url_prefix = url_prefix

    def url_for(self, key: str) -> str:
        return self.url_prefix + checked_key(key)

    def path_for(self, key: str) -> Path:
        return self.media_dir / checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        # the type is told by the extension when the file is served; object stores record it
        path = self.path_for(key)
        await anyio.to_thread.run_sync(_write_whole, path, data)
        return self.url_for(key)

    async def delete(self, key_or_url: str) -> None:
        if key_or_url.startswith(self.url_prefix):
            key = key_or_url.removeprefix(self.url_prefix)
        elif "://" in key_or_url or key_or_url.startswith("/"):
            return  # a URL of somewhere else (an image added by its https URL)
        else:
            key = key_or_url
        path = self.path_for(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))


def _write_whole(path: Path, data: bytes) -> None:
    """Write to a temporary file, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# clean, thumbnail, store


def _clean_with_thumbnails(
    data: bytes,
    thumb_sides: Sequence[int],
    *,
    max_pixels: int,
    max_bytes: int | None,
    min_side: int,
    max_side: int | None,
) -> tuple[CleanImage, dict[int, CleanImage]]:
    clean = clean_image(
        data, max_pixels=max_pixels, max_bytes=max_bytes, min_side=min_side, max_side=max_side
    )
    return clean, {side: make_thumbnail(clean, max_side=side) for side in thumb_sides}


async def store_image(
    storage: MediaStorage,
    data: bytes,
    *,
    folder: str,
    max_pixels: int,
    thumb_sides: Sequence[int] = DEFAULT_THUMB_SIDES,
    max_bytes: int | None = None,
    min_side: int = 1,
    max_side: int | None = None,
) -> StoredImage:
    """Clean an upload, make its thumbnails and store them all under new names in `folder`.

    Nothing stays stored when a step fails.
    """
    clean, thumbs = await anyio.to_thread.run_sync(
        lambda: _clean_with_thumbnails(
            data,
            thumb_sides,
            max_pixels=max_pixels,
            max_bytes=max_bytes,
            min_side=min_side,
            max_side=max_side,
        )
    )
    name = uuid7().hex
    stored: list[str] = []
    try:
        url = await storage.put(
            f"{folder}/{name}.{clean.extension}", clean.data, clean.content_type
        )
        stored.append(url)
        thumbnails: dict[int, str] = {}
        for side, thumb in thumbs.items():
            key = f"{folder}/{name}-{side}.{thumb.extension}"
            thumbnails[side] = await storage.put(key, thumb.data, thumb.content_type)
            stored.append(thumbnails[side])
    except BaseException:
        with anyio.CancelScope(shield=True):
            for written in stored:
                await storage.delete(written)
        raise
    return StoredImage(url, clean.width, clean.height, clean.content_type, thumbnails)


async def discard_image(storage: MediaStorage, image: StoredImage) -> None:
    """Remove a stored image and its thumbnails (no row refers to them, or none any more)."""
    for url in (image.url, *image.thumbnails.values()):
        await storage.delete(url)
