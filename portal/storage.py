"""Where uploaded files live: one small interface, and the local-disk implementation used by default.

Keys are made by the portal (random, with an extension), never taken from a request as a path: a key
is one plain file name, so no key can reach outside the storage's folder. Another backend (an object
store) implements the same three methods.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

import anyio

from portal.settings import Settings

# One plain file name: letters, digits, `_` and `-`, then an optional extension.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}(?:\.[a-z0-9]{1,10})?$")

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


class Storage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def open(self, key: str) -> bytes:
        """The stored bytes; raises `KeyError` when there is nothing under `key`."""
        ...

    async def delete(self, key: str) -> None:
        """Removes `key`; removing what is not there is a no-op."""
        ...


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise KeyError(key)
    return key


def new_key(extension: str) -> str:
    """A fresh, unguessable key ending in `.extension`."""
    return f"{secrets.token_urlsafe(16)}.{extension}"


def content_type_of(key: str) -> str:
    """The type to serve `key` with, from the extension the portal gave it."""
    _, _, extension = key.rpartition(".")
    return CONTENT_TYPES.get(extension, "application/octet-stream")


class LocalStorage:
    """Files in one folder on local disk, written atomically (a temporary file, then a rename)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / check_key(key)

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(self._write, self._path(key), data)

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            partial.write_bytes(data)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    async def open(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            raise KeyError(key) from None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))


def storage_for(settings: Settings) -> Storage:
    return LocalStorage(settings.media_dir)
