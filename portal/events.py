"""The in-process event bus.

Events are small frozen dataclasses carrying ids, named in the past tense. `emit` runs every
listener at once, inside the caller's database transaction, so whatever listeners write commits
or rolls back with the change that raised the event. Listeners write only to the database and
must be idempotent; work that leaves the process goes through the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

E = TypeVar("E", bound="Event")
Listener = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Event:
    name: ClassVar[str] = "event"


_listeners: dict[type[Event], list[Listener]] = defaultdict(list)
_every_event: list[Listener] = []
_recorders: list[list[Event]] = []


def listen(event_type: type[E]) -> Callable[[Callable[[E], Awaitable[None]]], Callable[[E], Awaitable[None]]]:
    def register(fn: Callable[[E], Awaitable[None]]) -> Callable[[E], Awaitable[None]]:
        if fn not in _listeners[event_type]:
            _listeners[event_type].append(fn)
        return fn

    return register


def listen_all(fn: Listener) -> Listener:
    """Registers `fn` for every event (after the listeners of its type), e.g. to forward events."""
    if fn not in _every_event:
        _every_event.append(fn)
    return fn


async def emit(event: Event) -> None:
    for recorder in _recorders:
        recorder.append(event)
    for listener in list(_listeners[type(event)]):
        await listener(event)
    for listener in list(_every_event):
        await listener(event)


@contextmanager
def record() -> Iterator[list[Event]]:
    """Collects the events raised inside the block (for tests)."""
    seen: list[Event] = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)
