"""Image uploads (ideas/uploads.py, ideas/upload_routes.py) and serving them (portal/media.py)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from ideas import uploads
from ideas.models import Attachment
from portal.app import create_app
from portal.errors import Forbidden, Unauthorized
from portal.markup import render_markdown
from portal.settings import Settings
from portal.storage import LocalStorage
from tests.browser import Client
from tests.factories import make_user


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def settings(make_settings: Any, media: Path) -> Settings:
    """The app of this module keeps its uploads in the test's own folder."""
    return make_settings(media_dir=str(media))


@pytest.fixture
async def member(client: Client) -> Client:
    await client.sign_in_as(await make_user())
    return client


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **save: Any) -> bytes:
    image = Image.new(mode, size, "#3046c8" if mode in ("RGB", "RGBA") else 1)
    for x in range(0, size[0], 2):
        image.putpixel((x, 0), (255, 0, 0) if mode in ("RGB", "RGBA") else 0)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def exif_jpeg() -> bytes:
    """A JPEG as a phone writes it: camera, place and orientation (rotated 90°) in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model X-1"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)}  # GPS
    return image_bytes("JPEG", (60, 20), exif=exif.tobytes(), comment=b"secret comment")


async def upload(
    client: Client, data: bytes, name: str = "picture.png", content_type: str = "image/png", **kw: Any
) -> httpx.Response:
    return await client.http.post(
        "/uploads",
        files={"file": (name, data, content_type)},
        headers={"X-CSRF-Token": await client.csrf_token(), **kw.pop("headers", {})},
        **kw,
    )


def assert_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert list(body["errors"]) == ["file"]
    assert words in body["errors"]["file"]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def assert_nothing_stored(media: Path) -> None:
    assert await Attachment.all().count() == 0
    assert files_in(media) == []


async def test_member_uploads_a_png(member: Client, media: Path) -> None:
    original = image_bytes("PNG")

    response = await upload(member, original)

    assert response.status_code == 201, response.text
    body = response.json()
    key = body["url"].removeprefix("/media/")
    assert body["url"] == f"/media/{key}"
    assert body["markdown"] == f"![image]({body['url']})"
    assert response.headers["location"] == body["url"]
    assert key.endswith(".png")
    assert len(key) > 20
    attachment = await Attachment.get(key=key).select_related("owner")
    assert attachment.owner.email.startswith("user")
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/png", 40, 30)
    stored = (media / key).read_bytes()
    assert attachment.size == len(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (40, 30))
        assert image.getpixel((0, 0))[:3] == (255, 0, 0)
        assert image.getpixel((1, 0))[:3] == (0x30, 0x46, 0xC8)


async def test_media_is_served_with_safe_headers(member: Client, anon: Client) -> None:
    url = (await upload(member, image_bytes("PNG"))).json()["url"]

    response = await anon.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Both policies hold: nothing in the file runs or loads, and no site frames it.
    assert response.headers.get_list("content-security-policy") == [
        "default-src 'none'",
        "frame-ancestors 'none'",
    ]
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("path", ["/media/nothing.png", "/media/..%2Fhearken.sqlite3", "/media/.hidden"])
async def test_unknown_media_is_404(anon: Client, path: str) -> None:
    assert (await anon.get(path)).status_code == 404


async def test_exif_and_comments_are_removed_and_the_photo_is_upright(member: Client, media: Path) -> None:
    original = exif_jpeg()
    with Image.open(io.BytesIO(original)) as before:  # the test image does carry what we remove
        assert before.getexif()[0x010F] == "SpyCam Inc."
        assert before.info["comment"] == b"secret comment"
    assert b"SpyCam" in original

    response = await upload(member, original, name="IMG_0001.JPG", content_type="image/jpeg")

    assert response.status_code == 201, response.text
    key = response.json()["url"].removeprefix("/media/")
    assert key.endswith(".jpg")
    stored = (media / key).read_bytes()
    assert b"SpyCam" not in stored
    assert b"Exif" not in stored
    assert b"secret comment" not in stored
    with Image.open(io.BytesIO(stored)) as after:
        assert after.format == "JPEG"
        assert dict(after.getexif()) == {}
        assert "exif" not in after.info
        assert "comment" not in after.info
        assert after.size == (20, 60)  # turned as the orientation said, since the tag is gone
    attachment = await Attachment.get(key=key)
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/jpeg", 20, 60)


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension", "options"),
    [
        ("WEBP", "image/webp", "webp", {}),
        ("WEBP", "image/webp", "webp", {"lossless": True}),
        ("GIF", "image/gif", "gif", {}),
        ("JPEG", "image/jpeg", "jpg", {}),
    ],
)
async def test_each_format_is_kept(
    member: Client, media: Path, fmt: str, content_type: str, extension: str, options: dict
) -> None:
    response = await upload(member, image_bytes(fmt, **options), name="x.bin", content_type="text/plain")

    assert response.status_code == 201, response.text
    key = response.json()["url"].removeprefix("/media/")
    assert key.endswith("." + extension)
    with Image.open(media / key) as image:
        assert (image.format, image.size) == (fmt, (40, 30))
    assert (await Attachment.get(key=key)).content_type == content_type
    served = await member.get(f"/media/{key}")
    assert served.headers["content-type"] == content_type


async def test_animated_gif_keeps_its_frames(member: Client, media: Path) -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)

    response = await upload(member, out.getvalue(), name="anim.gif", content_type="image/gif")

    assert response.status_code == 201, response.text
    with Image.open(media / response.json()["url"].removeprefix("/media/")) as image:
        assert image.n_frames == 3
        assert image.info["duration"] == 120


async def test_alt_text_goes_into_the_markdown(member: Client) -> None:
    response = await member.http.post(
        "/uploads",
        files={"file": ("a.png", image_bytes("PNG"), "image/png")},
        data={"alt": "The [export] dialog\nwith a bug"},
        headers={"X-CSRF-Token": await member.csrf_token()},
    )
    body = response.json()
    assert body["markdown"] == f"![The export dialog with a bug]({body['url']})"
    assert f'<img src="{body["url"]}" alt="The export dialog with a bug">' in render_markdown(
        body["markdown"]
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.png", b"<!doctype html><html><script>alert(document.cookie)</script></html>"),
        ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'),
        ("drawing.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("notes.png", b"just some text"),
        ("archive.png", b"PK\x03\x04" + b"\x00" * 100),
        ("image.bmp", image_bytes("BMP")),
        ("image.tiff", image_bytes("TIFF")),
    ],
)
async def test_files_that_are_not_our_images_are_refused(
    member: Client, media: Path, name: str, data: bytes
) -> None:
    response = await upload(member, data, name=name, content_type="image/png")
    assert_refused(response, "not a PNG, JPEG, WebP or GIF image")
    await assert_nothing_stored(media)


async def test_a_damaged_image_is_refused(member: Client, media: Path) -> None:
    png = image_bytes("PNG", (300, 300))
    assert_refused(await upload(member, png[:200]), "could not be read")
    assert_refused(await upload(member, b"\x89PNG\r\n\x1a\n" + b"\x00" * 50), "could not be read")
    await assert_nothing_stored(media)


async def test_anything_after_the_image_is_dropped(member: Client, media: Path) -> None:
    """A "polyglot": a real PNG with a page appended. We keep the pixels and nothing else."""
    data = image_bytes("PNG") + b"<html><script>alert(1)</script></html>"

    response = await upload(member, data)

    assert response.status_code == 201
    stored = (media / response.json()["url"].removeprefix("/media/")).read_bytes()
    assert b"<script>" not in stored
    assert stored.endswith(b"IEND\xaeB`\x82")


async def test_files_over_5_mb_are_refused(member: Client, media: Path) -> None:
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG", compress_level=0)
    assert out.tell() > 5 * 1024 * 1024

    assert_refused(await upload(member, out.getvalue()), "larger than 5 MB")
    await assert_nothing_stored(media)


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims `width` by `height` pixels: a decompression bomb's disguise."""
    png = bytearray(image_bytes("PNG", (8, 8)))
    ihdr = struct.pack(">II", width, height) + bytes(png[24:29])
    png[16:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(png)


@pytest.mark.parametrize(("width", "height"), [(6000, 5000), (30000, 30000)])
async def test_decompression_bombs_are_refused(member: Client, media: Path, width: int, height: int) -> None:
    response = await upload(member, _png_claiming(width, height))
    assert_refused(response, "too many pixels")
    await assert_nothing_stored(media)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_pillows_own_bomb_limit_is_honoured(
    member: Client, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow raises past twice this
    assert_refused(await upload(member, image_bytes("PNG", (20, 20))), "too many pixels")
    assert_refused(await upload(member, image_bytes("GIF", (12, 12))), "too many pixels")
    await assert_nothing_stored(media)


async def test_a_missing_file_is_a_field_error(member: Client, media: Path) -> None:
    response = await member.http.post(
        "/uploads", data={"alt": "x"}, headers={"X-CSRF-Token": await member.csrf_token()}
    )
    assert_refused(response, "Choose an image")
    assert_refused(await upload(member, b""), "Choose an image")
    await assert_nothing_stored(media)


async def test_visitors_may_not_upload(anon: Client, media: Path) -> None:
    response = await upload(anon, image_bytes("PNG"))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await assert_nothing_stored(media)


async def test_banned_members_may_not_upload(client: Client, media: Path) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    user.banned_at = user.created_at
    await user.save()
    response = await upload(client, image_bytes("PNG"))
    assert response.status_code == 401  # a ban ends the member's sessions
    assert response.headers["content-type"] == "application/problem+json"
    await assert_nothing_stored(media)


async def test_the_service_refuses_banned_members(media: Path, app: Any) -> None:
    banned = await make_user(banned=True)
    with pytest.raises(Forbidden):
        await uploads.upload_image(actor=banned, data=image_bytes("PNG"), storage=LocalStorage(media))
    with pytest.raises(Unauthorized):
        await uploads.upload_image(actor=None, data=image_bytes("PNG"), storage=LocalStorage(media))
    await assert_nothing_stored(media)


async def test_an_upload_without_the_csrf_token_is_refused(member: Client, media: Path) -> None:
    response = await member.http.post("/uploads", files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    assert response.status_code == 403
    await assert_nothing_stored(media)


async def test_uploads_are_rate_limited(make_settings: Any, media: Path) -> None:
    app = create_app(make_settings(media_dir=str(media), write_limit="2/minute"), migrate=False)
    async with app.router.lifespan_context(app), Client(app) as client:
        await client.sign_in_as(await make_user())
        assert (await upload(client, image_bytes("PNG"))).status_code == 201
        assert (await upload(client, image_bytes("PNG"))).status_code == 201
        response = await upload(client, image_bytes("PNG"))
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        assert "retry-after" in response.headers
        assert await Attachment.all().count() == 2


# The form page, for browsers without JavaScript.

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_the_form_page(member: Client) -> None:
    page = await member.get("/uploads")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="csrf_token"' in page.text
    assert '<label for="f-file">' in page.text
    assert '<label for="f-alt">' in page.text


async def test_the_form_page_needs_sign_in(anon: Client) -> None:
    response = await anon.get("/uploads")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/signin?next=/uploads"


async def test_uploading_with_the_form_shows_the_markdown(member: Client, media: Path) -> None:
    await member.get("/uploads")
    response = await member.http.post(
        "/uploads",
        files={"file": ("shot.png", image_bytes("PNG"), "image/png")},
        data={"csrf_token": await member.csrf_token(), "alt": "A screenshot"},
        headers=HTML,
    )

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/html")
    attachment = await Attachment.get()
    assert f'value="![A screenshot](/media/{attachment.key})"' in response.text
    assert f'<img src="/media/{attachment.key}"' in response.text
    assert (media / attachment.key).exists()


async def test_the_form_shows_what_is_wrong(member: Client, media: Path) -> None:
    response = await member.http.post(
        "/uploads",
        files={"file": ("page.png", b"<html></html>", "image/png")},
        data={"csrf_token": await member.csrf_token(), "alt": "kept"},
        headers=HTML,
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert 'aria-invalid="true"' in response.text
    assert "not a PNG, JPEG, WebP or GIF image" in response.text
    assert 'value="kept"' in response.text
    await assert_nothing_stored(media)


def test_reencode_alone_strips_png_text_and_colour_profiles() -> None:
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = image_bytes("PNG", pnginfo=info, icc_profile=icc)
    assert b"Jane Secret" in data

    encoded = uploads.reencode(data)

    assert b"Jane Secret" not in encoded.data
    with Image.open(io.BytesIO(encoded.data)) as image:
        assert "icc_profile" not in image.info
        assert "Author" not in image.info


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_transparency_survives(fmt: str) -> None:
    image = Image.new("RGBA", (4, 4), (0x30, 0x46, 0xC8, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))

    encoded = uploads.reencode(out.getvalue())

    with Image.open(io.BytesIO(encoded.data)) as again:
        rgba = again.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 0
        assert rgba.getpixel((1, 1))[3] == 255
