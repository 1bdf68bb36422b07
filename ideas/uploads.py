"""Images for ideas and comments: checked from their bytes, re-encoded, stored, and recorded.

An upload is trusted for nothing it says about itself. Its type comes from its first bytes (never
from its name or the declared content type); Pillow decodes it within a pixel budget and encodes the
pixels again, so what we store and serve is a plain image that we wrote: no EXIF (location, camera),
no comments, no colour profiles, nothing appended after the image data. Members put the image in
their Markdown as `![description](/media/KEY)`; `portal.markup` allows images only from /media/.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import anyio
from PIL import Image, ImageSequence

from ideas.models import Attachment
from portal import permissions
from portal.errors import Invalid
from portal.models import User
from portal.storage import Storage, new_key

MAX_BYTES = 5 * 1024 * 1024
# Decoding needs ~4 bytes a pixel, for every frame: 25 million pixels is ~100 MB, a 24-megapixel photo.
MAX_PIXELS = 25_000_000
MAX_FRAMES = 300
# At most this many decodes at once in the process, whatever the number of uploads, to bound memory.
_DECODE_SLOTS = threading.BoundedSemaphore(2)

_NOT_AN_IMAGE = "This file is not a PNG, JPEG, WebP or GIF image."
_DAMAGED = "This image could not be read; it may be damaged. Try saving it again as PNG or JPEG."
_TOO_BIG = "The image is larger than 5 MB. Make it smaller (or save it as JPEG) and try again."
_TOO_MANY_PIXELS = "The image has too many pixels (at most 25 million, over all its frames)."
_EMPTY = "Choose an image to upload."

# Pillow's format name → (content type, file extension).
_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
_ANIMATED = frozenset({"PNG", "WEBP", "GIF"})
# Modes each format stores as they are; other modes are converted to RGB(A).
_MODES = {
    "PNG": frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}),
    "JPEG": frozenset({"L", "RGB"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
    "GIF": frozenset({"L", "P", "RGB", "RGBA"}),
}
# EXIF orientation → the transposition that makes the pixels upright (as `ImageOps.exif_transpose`).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The image format that `data` starts like (Pillow's name for it), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def reencode(data: bytes) -> Encoded:
    """Decodes `data` as the format its bytes announce and encodes its pixels again, with no metadata."""
    if not data:
        raise Invalid({"file": _EMPTY})
    if len(data) > MAX_BYTES:
        raise Invalid({"file": _TOO_BIG})
    fmt = sniff(data)
    if fmt is None:
        raise Invalid({"file": _NOT_AN_IMAGE})
    with _DECODE_SLOTS:
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                return _encode(image, fmt, lossless=data[12:16] == b"VP8L")
        except Invalid:
            raise
        except Image.DecompressionBombError:
            raise Invalid({"file": _TOO_MANY_PIXELS}) from None
        except Exception:  # any failure to decode untrusted bytes means: not an image we can use
            raise Invalid({"file": _DAMAGED}) from None


def _encode(image: Image.Image, fmt: str, *, lossless: bool) -> Encoded:
    width, height = image.size
    frame_count = getattr(image, "n_frames", 1) if fmt in _ANIMATED else 1
    limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if width * height * frame_count > limit or frame_count > MAX_FRAMES:
        raise Invalid({"file": _TOO_MANY_PIXELS})
    turn = _UPRIGHT.get(image.getexif().get(_EXIF_ORIENTATION, 1))
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        frames.append(_clean(frame, fmt, turn))
        durations.append(int(frame.info.get("duration") or 100))
        if len(frames) == frame_count:
            break
    out = io.BytesIO()
    options: dict = {}
    if len(frames) > 1:
        options = {
            "save_all": True,
            "append_images": frames[1:],
            "duration": durations,
            "loop": int(image.info.get("loop", 0)),
        }
    if fmt == "JPEG":
        options |= {"quality": 88, "optimize": True}
    elif fmt == "WEBP":
        options |= {"lossless": True} if lossless else {"quality": 88}
    frames[0].save(out, format=fmt, **options)
    content_type, extension = _FORMATS[fmt]
    return Encoded(out.getvalue(), content_type, extension, frames[0].width, frames[0].height)


def _clean(frame: Image.Image, fmt: str, turn: Image.Transpose | None) -> Image.Image:
    """The frame's pixels in a new image that carries no metadata (only palette transparency)."""
    frame.load()
    clean = frame.transpose(turn) if turn is not None else frame.copy()
    if clean.mode not in _MODES[fmt]:
        has_alpha = clean.has_transparency_data and fmt != "JPEG"
        clean = clean.convert("RGBA" if has_alpha else "RGB")
    transparency = clean.info.get("transparency")
    clean.info = {} if transparency is None else {"transparency": transparency}
    return clean


async def upload_image(*, actor: User | None, data: bytes, storage: Storage) -> Attachment:
    """Checks, re-encodes and stores an image for `actor`; raises `Invalid` naming the field `file`."""
    permissions.require(actor, "image.upload")
    assert actor is not None
    encoded = await anyio.to_thread.run_sync(reencode, data)
    key = new_key(encoded.extension)
    await storage.save(key, encoded.data, encoded.content_type)
    try:
        return await Attachment.create(
            key=key,
            owner=actor,
            content_type=encoded.content_type,
            size=len(encoded.data),
            width=encoded.width,
            height=encoded.height,
        )
    except Exception:
        await storage.delete(key)
        raise


def media_url(attachment: Attachment) -> str:
    return f"/media/{attachment.key}"


def markdown_for(attachment: Attachment, alt: str = "") -> str:
    """The Markdown that shows the image; `alt` describes it for people who cannot see it."""
    text = " ".join(alt.replace("[", "").replace("]", "").replace("\\", "").split())[:200] or "image"
    return f"![{text}]({media_url(attachment)})"
