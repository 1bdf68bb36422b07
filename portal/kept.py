"""Markup kept with the digest of the rows it was drawn from.

A page asks the database for its rows "unless their digest is still D" (D: the digest kept here),
and gets one short row while nothing changed: it then neither reads nor draws them again. The
digest is taken in the statement that would send the rows, over every column drawn, so kept markup
always stands for the rows as they are now. Used by idea pages' comment threads
(`ideas/threads.py`) and by lists of idea cards (`ideas/card_pages.py`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    digest: Hashable
    value: T
    size: int  # characters of markup the value holds


class KeptStore(Generic[T]):
    """Values by key, bounded by count and by characters; when full, the oldest tenth goes first
    (dicts keep insertion order: one sweep per tenth rather than one per value kept). The fragment
    cache (`portal.fragments.FragmentStore`) is one, without digests."""

    def __init__(self, max_entries: int = 5_000, max_characters: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_characters = max_characters
        self._data: dict[Hashable, Kept[T]] = {}
        self._characters = 0
        self.drawn = 0  # values kept (drawn afresh); a kept one reused does not count

    def get(self, key: Hashable) -> Kept[T] | None:
        return self._data.get(key)

    def keep(self, key: Hashable, digest: Hashable, value: T, size: int) -> None:
        self.drawn += 1
        old = self._data.pop(key, None)
        if old is not None:
            self._characters -= old.size
        while self._data and (
            len(self._data) >= self.max_entries or self._characters + size > self.max_characters
        ):
            for stale in list(self._data)[: max(1, len(self._data) // 10)]:
                self._characters -= self._data.pop(stale).size
        if size <= self.max_characters:
            self._data[key] = Kept(digest, value, size)
            self._characters += size

    def values(self) -> list[Kept[T]]:
        return list(self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self._characters = 0
