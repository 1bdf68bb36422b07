"""portal/storage.py: the local-disk storage behind the Storage interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import Settings
from portal.storage import LocalStorage, Storage, content_type_of, new_key, storage_for


async def test_save_open_delete_round_trip(tmp_path: Path) -> None:
    storage: Storage = LocalStorage(tmp_path / "media")
    await storage.save("abc_DEF-1.png", b"\x89PNG bytes", "image/png")

    assert await storage.open("abc_DEF-1.png") == b"\x89PNG bytes"
    assert (tmp_path / "media" / "abc_DEF-1.png").read_bytes() == b"\x89PNG bytes"
    assert [p.name for p in (tmp_path / "media").iterdir()] == ["abc_DEF-1.png"]  # no partial files left

    await storage.delete("abc_DEF-1.png")
    with pytest.raises(KeyError):
        await storage.open("abc_DEF-1.png")
    await storage.delete("abc_DEF-1.png")  # deleting what is not there is a no-op


async def test_saving_again_replaces(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.save("k.gif", b"one", "image/gif")
    await storage.save("k.gif", b"two", "image/gif")
    assert await storage.open("k.gif") == b"two"


async def test_missing_key_is_a_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        await LocalStorage(tmp_path).open("nothing.png")


@pytest.mark.parametrize(
    "key",
    ["../secret.png", "a/b.png", "..", ".hidden", "", "x.png/", "a\\b.png", "%2e%2e.png", "x.PNG.."],
)
async def test_keys_cannot_leave_the_folder(tmp_path: Path, key: str) -> None:
    (tmp_path / "secret.png").write_bytes(b"outside")
    storage = LocalStorage(tmp_path / "media")
    with pytest.raises(KeyError):
        await storage.open(key)
    with pytest.raises(KeyError):
        await storage.save(key, b"x", "image/png")
    with pytest.raises(KeyError):
        await storage.delete(key)
    assert (tmp_path / "secret.png").read_bytes() == b"outside"


def test_new_keys_are_random_plain_names_with_the_extension() -> None:
    keys = {new_key("webp") for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        stem, _, extension = key.partition(".")
        assert extension == "webp"
        assert len(stem) >= 20
        assert stem.replace("-", "").replace("_", "").isalnum()


def test_content_type_comes_from_the_extension_the_portal_gave() -> None:
    assert content_type_of("a.png") == "image/png"
    assert content_type_of("a.jpg") == "image/jpeg"
    assert content_type_of("a.webp") == "image/webp"
    assert content_type_of("a.gif") == "image/gif"
    assert content_type_of("a.html") == "application/octet-stream"
    assert content_type_of("a") == "application/octet-stream"


def test_storage_for_uses_the_media_dir_setting(tmp_path: Path) -> None:
    storage = storage_for(Settings(media_dir=str(tmp_path / "m")))
    assert isinstance(storage, LocalStorage)
    assert storage.folder == tmp_path / "m"


def test_media_dir_setting_from_the_environment() -> None:
    env = {"HEARKEN_SECRET_KEY": "s" * 40}
    assert Settings.from_env(env).media_dir == "var/media"
    changed = Settings.from_env(env | {"HEARKEN_MEDIA_DIR": "/srv/hearken/media"})
    assert changed.media_dir == "/srv/hearken/media"
