"""Pages of idea cards (lists and search results), drawn once per version of their rows and kind of
reader, and kept (`portal.kept`): while a page's ideas are unchanged, it neither reads nor draws
them again (`queries.list_ideas(keeping=True)` sends the rows only when their digest changed).

What a page of cards shows beyond its rows is in the key (the list asked for, the reader's id,
which card actions they may take, the card slots) or kept beside the markup (the catalogue's maps
of boards and statuses the cards were drawn with: kept markup is trusted only while those are the
current maps). Readers that a decorator without SQL columns adds something for (staff see weighted
demand) get their cards drawn afresh every time.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from markupsafe import Markup

from ideas import catalog, extensions, queries
from ideas.queries import IdeaFilter, IdeaPage
from portal.fragments import key_part
from portal.kept import KeptStore
from portal.models import User
from portal.templating import slot_macros, templates


@dataclass(frozen=True)
class Cards:
    markup: Markup
    next_cursor: str | None
    maps: tuple[Any, Any]  # the catalogue's (boards, statuses) maps the markup was drawn with


# Each member has their own pages (their votes are on them): a smaller share each than threads get.
kept_pages: KeptStore[Cards] = KeptStore(max_characters=16 * 1024 * 1024)


# The keys of search pages asked for once, newest last: a bounded memory, oldest forgotten first.
_searched: dict[Any, None] = {}
SEARCHES_REMEMBERED = 10_000


def _searched_before(key: Any) -> bool:
    """Whether this search page was asked for before (and remembers that it now was)."""
    if key in _searched:
        return True
    _searched[key] = None
    if len(_searched) > SEARCHES_REMEMBERED:
        del _searched[next(iter(_searched))]
    return False


def draw(items: list[dict[str, Any]], reader: dict[str, Any]) -> Markup:
    module = templates.env.get_template("ideas/_idea_card.html").module
    return module.idea_cards(items, slot_macros(extensions.card_slots), reader)  # type: ignore[attr-defined,no-any-return]


async def list_with_cards(user: User | None, flt: IdeaFilter) -> tuple[IdeaPage, Markup]:
    """The page of ideas `flt` asks for, and its cards as this reader sees them."""
    reader = extensions.reader_of(user)
    if extensions.decorated_apart(user):
        page = await queries.list_ideas(user, flt)
        return page, draw(page.items, reader)
    key = (astuple(flt), user.id if user is not None else 0, key_part(reader), tuple(extensions.card_slots))
    maps = await catalog.maps()
    kept = kept_pages.get(key)
    if kept is None and flt.q and not _searched_before(key):
        # Most searches are typed once: keeping their page would cost a digest and push pages that
        # are asked for again out of the store. A search is kept from its second asking on.
        page = await queries.list_ideas(user, flt)
        return page, draw(page.items, reader)
    current = kept is not None and kept.value.maps[0] is maps[0] and kept.value.maps[1] is maps[1]
    page = await queries.list_ideas(user, flt, keeping=True, unless=kept.digest if kept and current else None)
    if page.unchanged:
        assert kept is not None  # the digest matched the kept one
        page.next_cursor = kept.value.next_cursor
        return page, kept.value.markup
    markup = draw(page.items, reader)
    if page.digest is not None:
        kept_pages.keep(key, page.digest, Cards(markup, page.next_cursor, maps), len(markup))
    return page, markup
