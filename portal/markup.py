"""User Markdown to safe HTML: the only module that imports bleach.

Markdown is rendered with markdown-it-py (raw HTML off, so tags in the source come out as text),
then sanitised with bleach against an allowlist. Sanitising costs tens of milliseconds for a long
text, so callers store the result beside the source and pages never sanitise on read.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "img",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "img": ["src", "alt", "title", "width", "height"],
    "th": ["align"],
    "td": ["align"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,39})")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    return md.enable(["linkify", "table", "strikethrough"])


def _link_attrs(attrs: dict[tuple[str | None, str], str], new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if href.startswith("/") and not href.startswith("//"):
        return attrs  # our own pages: no nofollow
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


# An upload's address exactly (portal.storage.new_key): no dot segments, encoded or not, no query.
_MEDIA_SRC = re.compile(r"/media/[A-Za-z0-9_-]+\.[A-Za-z0-9]+")


def _image_src_is_local(tag: str, name: str, value: str) -> bool:
    if tag == "img" and name == "src":
        # Only our own uploads: a remote image would let its host track every reader, and a path
        # that climbs out of /media/ ("/media/../api/v1/me") would fetch any page of ours with the
        # reader's session.
        return _MEDIA_SRC.fullmatch(value) is not None
    return name in ALLOWED_ATTRIBUTES.get(tag, [])


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_image_src_is_local,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_link_attrs], skip_tags={"pre", "code"}, parse_email=False)],
)


def render_markdown(source: str) -> str:
    """Safe HTML for a user's Markdown (store it; do not call on every view)."""
    html = _markdown().render(source)
    return _cleaner.clean(html)


def render_plain(text: str) -> str:
    """Plain text (a status message, say) as escaped HTML with line breaks kept."""
    return str(escape(text.strip())).replace("\n", "<br>")


def safe(html: str | None) -> Markup:
    """Marks HTML produced by this module as safe for templates; never call it on anything else."""
    return Markup(html or "")  # noqa: S704 - only sanitised output of render_markdown reaches here


def mentions(source: str) -> list[str]:
    """The @handles named in a text, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(source):
        seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return list(seen)
