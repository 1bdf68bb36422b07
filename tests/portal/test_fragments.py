"""`{% cache %}` keeps a fragment per distinct set of values; every block in our templates reads
only the values it is keyed by, so kept markup can never differ from freshly rendered markup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from jinja2 import DictLoader, Environment, nodes
from markupsafe import Markup, escape

from ideas import extensions
from portal.fragments import FragmentCacheExtension, FragmentStore, key_part
from portal.templating import TEMPLATES_DIR, templates


def _env(source: dict[str, str]) -> Environment:
    return Environment(loader=DictLoader(source), autoescape=True, extensions=[FragmentCacheExtension])


def test_a_block_renders_once_per_key_and_keeps_escaping() -> None:
    env = _env({"t": "{% cache row['id'], row['title'] %}<b>{{ row['title'] }}</b>{% endcache %}"})
    store: FragmentStore = env.fragment_store  # type: ignore[attr-defined]
    template = env.get_template("t")

    first = template.render(row={"id": 1, "title": "<script>"})
    again = template.render(row={"id": 1, "title": "<script>"})
    changed = template.render(row={"id": 1, "title": "Tom & Jerry"})

    assert first == again == "<b>&lt;script&gt;</b>"
    assert changed == "<b>Tom &amp; Jerry</b>"
    assert (store.hits, store.misses, len(store)) == (1, 2, 2)


def test_blocks_at_different_places_never_share_markup() -> None:
    env = _env({"t": "{% cache n %}A{{ n }}{% endcache %}|{% cache n %}B{{ n }}{% endcache %}"})
    assert env.get_template("t").render(n=1) == "A1|B1"


def test_the_store_stays_within_its_bound_dropping_the_oldest() -> None:
    store = FragmentStore(max_entries=10)
    for n in range(25):
        store.get_or_render(n, lambda n=n: str(n))  # type: ignore[misc]
    assert len(store) <= 10
    assert store.get_or_render(24, lambda: "recomputed") == "24"  # the newest is still kept
    assert store.get_or_render(0, lambda: "recomputed") == "recomputed"  # the oldest went


def test_the_store_stays_within_its_size_counting_keys_and_markup() -> None:
    store = FragmentStore(max_entries=1000, max_characters=2000)
    for n in range(30):
        store.get_or_render(n, lambda n=n: escape(f"{n:03d}" * 100))  # type: ignore[misc]
        assert store.characters <= 2000
    assert store.characters == 2 * 300 * len(store) > 0
    assert store.get_or_render(29, lambda: Markup("recomputed")) == "029" * 100
    assert store.get_or_render(0, lambda: Markup("recomputed")) == "recomputed"
    # A fragment larger than the whole store is drawn but not kept.
    assert store.get_or_render("huge", lambda: escape("x" * 1500)) == "x" * 1500
    assert store.get_or_render("huge", lambda: Markup("again")) == "again"


def test_key_parts_take_rows_and_lists_but_refuse_objects() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert key_part({"tags": ["a", "b"], "at": when}) == (("tags", ("a", "b")), ("at", when))
    hash(key_part({"tags": ["a"]}))
    thread = [{"id": 1, "replies": [{"id": 2, "replies": []}]}]
    assert key_part(thread) == ((("id", 1), ("replies", ((("id", 2), ("replies", ())),))),)
    assert key_part(thread) != key_part([{"id": 1, "replies": [{"id": 3, "replies": []}]}])

    class Model:
        pass

    with pytest.raises(TypeError, match="Model"):
        key_part(Model())
    with pytest.raises(TypeError, match="Model"):
        key_part([{"id": 1, "replies": [{"author": Model()}]}])  # however deep


# --- every {% cache %} block in the templates reads only what its key holds ----------------------


def _cache_blocks(tree: nodes.Node) -> Iterator[tuple[list[nodes.Expr], list[nodes.Node]]]:
    for block in tree.find_all(nodes.CallBlock):
        call = block.call
        if isinstance(call.node, nodes.ExtensionAttribute) and call.node.name == "_cached":
            parts = call.args[0]
            assert isinstance(parts, nodes.Tuple)
            yield parts.items[1:], block.body  # items[0] is the block's place


def _bound_inside(body: list[nodes.Node]) -> set[str]:
    names: set[str] = {"loop"}
    for node in body:
        for target in node.find_all(nodes.Name):
            if target.ctx in ("store", "param"):
                names.add(target.name)
    return names


# Names a kept block may use beyond its key: helpers that read nothing of the page's context.
# `slot_macros` loads the card slots' macros without context (each is checked below to read only
# its arguments).
_CONTEXT_FREE_GLOBALS = {"slot_macros"}


def _imported_without_context(tree: nodes.Node) -> set[str]:
    """Macros this template imports without its context: they can read only their arguments."""
    names: set[str] = set()
    for node in tree.find_all(nodes.FromImport):
        if not node.with_context:
            names |= {alias if isinstance(alias, str) else alias[1] for alias in node.names}
    return names


def _reads_outside_key(
    key: list[nodes.Expr],
    body: list[nodes.Node],
    context_free: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    whole = {k.name for k in key if isinstance(k, nodes.Name)} | _CONTEXT_FREE_GLOBALS | context_free
    parts = {repr(k) for k in key}
    bound = _bound_inside(body)
    unkeyed: list[str] = []
    for node in body:
        # What another template reads is out of this check's sight: a kept block draws all itself.
        for other in [node, *node.find_all(nodes.Node)]:
            if isinstance(other, nodes.Include | nodes.Import | nodes.FromImport):
                unkeyed.append(f"{type(other).__name__.lower()} {getattr(other.template, 'value', '?')}")
    subscripted: set[int] = set()
    for node in body:
        for item in node.find_all(nodes.Getitem):
            if isinstance(item.node, nodes.Name):
                subscripted.add(id(item.node))
                if repr(item) not in parts and item.node.name not in whole | bound:
                    unkeyed.append(f"{item.node.name}[{getattr(item.arg, 'value', '?')!r}]")
        for name in node.find_all(nodes.Name):
            if name.ctx == "load" and id(name) not in subscripted and name.name not in whole | bound:
                unkeyed.append(name.name)
    return unkeyed


def _template_names() -> list[str]:
    return sorted(
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*.html")
        if "{% cache" in path.read_text()
    )


def test_the_templates_use_cached_fragments() -> None:
    cached = {
        "ideas/_idea_card.html",
        "ideas/_comments.html",
        "voting/_vote_slot.html",
    }
    assert cached <= set(_template_names())


@pytest.mark.parametrize("name", _template_names())
def test_every_cached_block_reads_only_its_key(name: str) -> None:
    tree = templates.env.parse((TEMPLATES_DIR / name).read_text(), name)
    blocks = list(_cache_blocks(tree))
    assert blocks
    for key, body in blocks:
        assert _reads_outside_key(key, body, _imported_without_context(tree)) == []


def test_the_check_catches_a_block_reading_beyond_its_key() -> None:
    source = "{% cache idea['id'] %}{{ idea['id'] }} {{ idea['title'] }} {{ user }}{% endcache %}"
    [(key, body)] = list(_cache_blocks(templates.env.parse(source)))
    assert _reads_outside_key(key, body) == ["idea['title']", "user"]


def test_the_check_catches_a_block_drawing_another_template() -> None:
    source = "{% cache idea %}{% include 'ideas/_follow.html' %}{{ idea }}{% endcache %}"
    [(key, body)] = list(_cache_blocks(templates.env.parse(source)))
    assert _reads_outside_key(key, body) == ["include ideas/_follow.html"]


def test_a_block_may_call_macros_imported_without_context_only() -> None:
    source = (
        '{% from "a.html" import free %}{% from "b.html" import bound with context %}'
        "{% cache rows %}{{ free(rows) }}{{ bound(rows) }}{% endcache %}"
    )
    tree = templates.env.parse(source)
    [(key, body)] = list(_cache_blocks(tree))
    assert _reads_outside_key(key, body, _imported_without_context(tree)) == ["bound"]


def _macro_reads_beyond_its_arguments(macro: nodes.Macro, siblings: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """`siblings`: the macros defined beside it (they too read only their arguments)."""
    allowed = {a.name for a in macro.args} | _bound_inside(macro.body) | {"caller"} | siblings
    # Globals are the same for every page, unless they read the page's context (`pass_context`).
    allowed |= {
        name
        for name, value in templates.env.globals.items()
        if getattr(value, "jinja_pass_arg", None) is None
    }
    return sorted({n.name for n in macro.find_all(nodes.Name) if n.ctx == "load" and n.name not in allowed})


@pytest.mark.parametrize("name", ["ideas/_idea_card.html", *extensions.card_slots])
def test_cards_and_their_slots_read_only_their_arguments(name: str) -> None:
    """They are loaded without a page's context (a name from it would quietly be empty), and pages
    keep whole lists of cards keyed by the cards' arguments."""
    tree = templates.env.parse((TEMPLATES_DIR / name).read_text(), name)
    macros = list(tree.find_all(nodes.Macro))
    assert macros
    for macro in macros:
        assert _macro_reads_beyond_its_arguments(macro, {m.name for m in macros}) == [], macro.name


def test_the_macro_check_catches_a_slot_reading_the_page() -> None:
    tree = templates.env.parse(
        "{% macro slot(idea, reader) %}{{ idea }}{% if user %}{{ card_reader() }}{% endif %}{% endmacro %}"
    )
    [macro] = list(tree.find_all(nodes.Macro))
    assert _macro_reads_beyond_its_arguments(macro) == ["card_reader", "user"]


def test_each_comment_of_a_thread_is_kept_in_a_block_of_its_own() -> None:
    """The whole thread is kept by ideas/threads.py; inside it each comment, so a thread with one
    new comment redraws only that one."""
    source = (TEMPLATES_DIR / "ideas/_comments.html").read_text()
    [(key, _body)] = list(_cache_blocks(templates.env.parse(source)))
    assert repr(key[0]) == repr(nodes.Getitem(nodes.Name("c", "load"), nodes.Const("id"), "load"))
