"""Places where other packages add to ideas without `ideas` importing them.

- `idea_decorators`: async `(reader, idea_ids) -> {idea_id: {field: value}}`, merged into every idea
  a list, a page or the API shows (voting adds `voted` and `priority`). One query per decorator.
  A decorator may come with `ReaderColumns`, the same fields as SQL: lists then read them in their
  own statement instead of asking the decorator (one statement fewer per page for a member). One
  without says which readers it adds anything for (`applies`): lists kept with the digest of their
  rows (ideas/card_pages.py) are kept only for readers no such decorator applies to.
- `card_slots`: templates defining `{% macro slot(idea, reader) %}`, called in each idea card (and
  next to the idea on its page). A slot reads only its arguments (pages import it without their
  context, and keep a page of cards whole per kind of reader): `reader` is `card_reader`'s, the
  same for every card. `card_actions`: the policy actions slots ask about, decided once per page
  for `reader["may"]` (so only actions whose answer does not depend on the idea).
  `page_slots`: templates included on the idea page.
- `idea_json_fields`: field names a decorator adds that belong in the API's `idea` shape.
- `audience_providers`: async `(idea_ids) -> user ids` of people who care about these ideas beyond
  their followers (voting adds the voters), told when a changelog entry links the ideas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from portal import permissions

Decorator = Callable[[Any, list[int]], Awaitable[dict[int, dict[str, Any]]]]


@dataclass(frozen=True)
class ReaderColumns:
    """What a decorator adds for a signed-in reader, as columns of a list's statement: each field's
    SQL expression over `i` (the idea), where `{reader}` stands for the reader's id; typically a
    subquery on an index, which costs one probe per listed idea whatever the reader's history. The
    decorator must add nothing for anonymous readers, for whom lists leave the columns out."""

    columns: dict[str, str]
    booleans: tuple[str, ...] = field(default=())


idea_decorators: list[Decorator] = []
reader_columns: dict[Decorator, ReaderColumns] = {}
applies_to: dict[Decorator, Callable[[Any], bool]] = {}
card_slots: list[str] = []
card_actions: list[str] = []
page_slots: list[str] = []
idea_json_fields: list[str] = []
audience_providers: list[Callable[[list[int]], Awaitable[list[int]]]] = []


def add_decorator(
    decorator: Decorator,
    *,
    columns: ReaderColumns | None = None,
    applies: Callable[[Any], bool] = lambda _reader: True,
) -> None:
    if decorator not in idea_decorators:
        idea_decorators.append(decorator)
    if columns is not None:
        reader_columns[decorator] = columns
    applies_to[decorator] = applies


def decorated_apart(reader: Any) -> bool:
    """Whether a decorator without `ReaderColumns` adds anything for this reader."""
    return any(applies_to[d](reader) for d in idea_decorators if d not in reader_columns)


def add_template(slots: list[str], name: str) -> None:
    if name not in slots:
        slots.append(name)


def add_card_action(action: str) -> None:
    if action not in card_actions:
        card_actions.append(action)


def reader_of(user: Any) -> dict[str, Any]:
    """What card slots know of a reader: whether they are signed in, and what they may do of
    `card_actions`."""
    return {"signed_in": user is not None, "may": {a: permissions.can(user, a) for a in card_actions}}


@pass_context
def card_reader(context: Context) -> dict[str, Any]:
    """`reader_of` the page's reader (a template global)."""
    return reader_of(context.get("user"))
