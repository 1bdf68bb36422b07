"""The filters templates share (portal/template_filters.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from jinja2.filters import do_urlencode

from portal import template_filters
from portal.templating import templates


def test_time_tag_gives_the_moment_as_iso_and_as_shown() -> None:
    moment = datetime(2026, 3, 7, 9, 5, tzinfo=UTC)
    shown = template_filters.time_tag(moment)
    assert shown == '<time datetime="2026-03-07T09:05:00+00:00">07 Mar 2026</time>'
    assert template_filters.time_tag(moment, "%d %b, %H:%M") == (
        '<time datetime="2026-03-07T09:05:00+00:00">07 Mar, 09:05</time>'
    )
    assert template_filters.time_tag(date(2026, 3, 7), "%d %b") == '<time datetime="2026-03-07">07 Mar</time>'


def test_time_tag_escapes_what_the_format_prints() -> None:
    shown = template_filters.time_tag(date(2026, 3, 7), "<%Y & co>")
    assert shown == '<time datetime="2026-03-07">&lt;2026 &amp; co&gt;</time>'


def test_templates_print_time_tags_as_markup() -> None:
    page = templates.env.from_string("{{ when|time_tag }}").render(when=date(2026, 1, 2))
    assert page == '<time datetime="2026-01-02">02 Jan 2026</time>'


def test_urlencode_quotes_as_jinja_does() -> None:
    for value in ["plain-slug", "a b&c=d/é", "", {"q": "a b", "page": 2}, [("tag", "x y")]]:
        assert template_filters.urlencode(value) == do_urlencode(value)
    rendered = templates.env.from_string("{{ v|urlencode }}").render(v="a b&c")
    assert rendered == "a%20b%26c"


def test_urlencode_remembers_strings() -> None:
    template_filters._quoted.cache_clear()
    for _ in range(3):
        template_filters.urlencode("feature-requests")
    info = template_filters._quoted.cache_info()
    assert (info.misses, info.hits) == (1, 2)
