"""Filters every template may use, written for the per-card and per-comment work of list pages."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2.filters import do_urlencode
from jinja2.utils import url_quote
from markupsafe import Markup, escape


def time_tag(moment: date | datetime, display: str = "%d %b %Y") -> Markup:
    """`<time datetime="…">` with the moment as ISO 8601 and, inside, shown as `display` (strftime).

    One Python call: written in the template, the two method calls cost a card more than the rest
    of its date line."""
    iso, shown = escape(moment.isoformat()), escape(moment.strftime(display))
    return Markup(f'<time datetime="{iso}">{shown}</time>')  # noqa: S704 - both parts escaped


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    return url_quote(text)


def urlencode(value: Any) -> str:
    """Jinja's `urlencode`, with strings remembered: cards quote the same few board and tag slugs
    over and over, and quoting one cost more than drawing the rest of its link."""
    if type(value) is str:
        return _quoted(value)
    return do_urlencode(value)
