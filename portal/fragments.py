"""`{% cache a, b, ... %}…{% endcache %}`: markup rendered once per distinct set of values, then kept.

A list page draws twenty cards and an idea page fifty comments; each costs dozens of escapes and
a macro call, and the same card is drawn again for every reader until its idea changes. The block's
output is kept under a key made of the block's place and the values given, so the block must
read *only* those values (never `user` or anything else from the context): then the kept markup
is exactly what rendering would produce, and a changed value is simply a new key. `csrf_token` is
the same slot for every reader (`portal.templating.CSRF_SLOT`, swapped for the reader's token once
the page is drawn), so a block may hold forms; it names `csrf_token` in its key like anything else.
Nothing needs clearing and nothing can be stale. Rows (dicts) count as their items, lists as
tuples. The store is bounded; the oldest entries go first.

The extension follows the fragment cache example in Jinja's documentation on extensions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from portal.kept import KeptStore

MAX_ENTRIES = 20_000
# A kept comment thread runs to tens of kilobytes (and its key holds the comments too): bound the
# store by size as well as by count.
MAX_CHARACTERS = 64 * 1024 * 1024
_SCALARS = (str, int, float, Decimal, date, type(None))  # bool is an int, datetime a date
_EXACT = frozenset({str, int, bool, float, datetime, type(None)})


class FragmentStore(KeptStore[Markup]):
    """Rendered fragments by key, evicted first-in first-out past `max_entries` entries or
    `max_characters` of markup (each counted twice: its key holds about as much as the markup)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_characters: int = MAX_CHARACTERS) -> None:
        super().__init__(max_entries, max_characters)
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], Markup]) -> Markup:
        found = self._data.get(key)
        if found is not None:
            self.hits += 1
            return found.value
        self.misses += 1
        markup = render()  # already Markup: the block was rendered with autoescaping
        self.keep(key, None, markup, 2 * len(markup))
        return markup

    @property
    def characters(self) -> int:
        return self._characters


def key_part(value: Any) -> Hashable:
    """A hashable stand-in for a value a fragment reads: equal parts, equal markup.

    Written for speed (a comment thread's key is hundreds of values): exact types are checked
    inline, and rows and lists are walked by comprehensions rather than generators."""
    if type(value) in _EXACT:
        return value
    if isinstance(value, dict):
        return tuple([(k, v if type(v) in _EXACT else key_part(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return tuple([v if type(v) in _EXACT else key_part(v) for v in value])
    if isinstance(value, _SCALARS):
        return value
    # A model or another object could change without its identity changing: pass its fields.
    raise TypeError(f"a cached fragment's key cannot hold a {type(value).__name__}")


class FragmentCacheExtension(Extension):
    tags = {"cache"}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.extend(fragment_store=FragmentStore())
        self._blocks = itertools.count()

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        # Which block this is, so two blocks given the same values never share markup.
        parts: list[nodes.Expr] = [nodes.Const(f"{parser.name}:{lineno}:{next(self._blocks)}")]
        parts.append(parser.parse_expression())
        while parser.stream.skip_if("comma"):
            parts.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_cached", [nodes.Tuple(parts, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _cached(self, parts: tuple[Any, ...], caller: Callable[[], Markup]) -> Markup:
        store: FragmentStore = self.environment.fragment_store  # type: ignore[attr-defined]
        return store.get_or_render(key_part(parts), caller)
