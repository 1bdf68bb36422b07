"""Checks that a rendered HTML page carries nothing executable from user input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# The only scripts our own templates put on a page.
OWN_SCRIPTS = ("/static/vendor/htmx-",)
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster", "srcset", "content"}
)
_BANNED_TAGS = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "svg", "math", "isindex"}
)
# The status badge's colour (admins set it; the service checks it is #rrggbb).
_OWN_STYLE = re.compile(r"^--status: #[0-9a-fA-F]{6}$")
_EVENT = re.compile(r"^on[a-z]+$", re.IGNORECASE)
_RAW_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_RAW_EVENT = re.compile(r"[\s/\"']on[a-zA-Z]+\s*=", re.IGNORECASE)
_BAD_SCHEME = re.compile(r"^(javascript|vbscript|data|livescript):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def tags_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser.tags


def problems(html: str, *, allow_htmx_attributes: bool = True) -> list[str]:
    """Everything executable in `html` that our own templates did not put there."""
    found: list[str] = []
    tags = tags_of(html)
    for tag, attrs in tags:
        names = {name.lower(): value for name, value in attrs}
        if tag in ("script",):
            src = names.get("src") or ""
            if not src.startswith(OWN_SCRIPTS):
                found.append(f"<script> tag: {attrs}")
        if tag in _BANNED_TAGS or (tag == "meta" and "http-equiv" in names):
            found.append(f"<{tag}> tag: {attrs}")
        for name, value in names.items():
            if _EVENT.match(name):
                found.append(f"event handler {name}= on <{tag}>")
            if name == "style" and not _OWN_STYLE.match(value or ""):
                found.append(f"style attribute on <{tag}>: {value!r}")
            if not allow_htmx_attributes and (name.startswith(("hx-", "data-hx-"))):
                found.append(f"htmx attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value and _BAD_SCHEME.match(_INVISIBLE.sub("", value)):
                found.append(f"dangerous URL in {name}= on <{tag}>: {value!r}")
    # The same, on the raw text, in case the parser above reads the page more kindly than a browser.
    if html.lower().count("<script") != sum(1 for tag, _ in tags if tag == "script"):
        found.append("a raw '<script' the parser did not see as a tag")
    for raw in _RAW_TAG.findall(html):
        if _RAW_EVENT.search(_QUOTED.sub('""', raw)):
            found.append(f"event handler in raw tag {raw!r}")
    return found


def assert_safe(html: str, *, allow_htmx_attributes: bool = True) -> None:
    found = problems(html, allow_htmx_attributes=allow_htmx_attributes)
    assert not found, "\n".join(found)


def own_script_count(html: str) -> int:
    return sum(
        1
        for tag, attrs in tags_of(html)
        if tag == "script" and (dict(attrs).get("src") or "").startswith(OWN_SCRIPTS)
    )
