"""Atom feeds (with feedgen): the changelog, and each idea's status history."""

from __future__ import annotations

from typing import Any

from feedgen.feed import FeedGenerator

from ideas.models import Idea


def _feed(*, feed_id: str, title: str, link: str, self_link: str, subtitle: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle)
    fg.link(href=link, rel="alternate")
    fg.link(href=self_link, rel="self")
    fg.language("en")
    return fg


def changelog_feed(base_url: str, site_name: str, entries: list[dict[str, Any]]) -> bytes:
    fg = _feed(
        feed_id=f"{base_url}/changelog",
        title=f"{site_name} changelog",
        link=f"{base_url}/changelog",
        self_link=f"{base_url}/changelog.atom",
        subtitle="What shipped, and the ideas it answers.",
    )
    newest = None
    for item in reversed(entries):  # feedgen prepends: add oldest first
        entry = item["entry"]
        fe = fg.add_entry()
        fe.id(f"{base_url}/changelog/{entry.id}")
        fe.title(entry.title)
        fe.link(href=f"{base_url}/changelog/{entry.id}")
        fe.published(entry.published_at)
        fe.updated(entry.published_at)
        links = "".join(
            f'<li><a href="{base_url}{i["url"]}">{_escape(i["title"])}</a></li>' for i in item["ideas"]
        )
        fe.content(entry.body_html + (f"<ul>{links}</ul>" if links else ""), type="html")
        newest = max(newest, entry.published_at) if newest else entry.published_at
    fg.updated(newest or _epoch())
    return fg.atom_str(pretty=True)


def idea_feed(base_url: str, site_name: str, idea: Idea, url: str, history: list[dict[str, Any]]) -> bytes:
    fg = _feed(
        feed_id=f"{base_url}/ideas/{idea.id}",
        title=f"{idea.title} — status history",
        link=base_url + url,
        self_link=f"{base_url}/ideas/{idea.id}.atom",
        subtitle=f"Every status change of this idea on {site_name}.",
    )
    fg.author({"name": site_name})
    newest = idea.created_at
    for h in history:
        fe = fg.add_entry()
        fe.id(f"{base_url}/ideas/{idea.id}#status-{h['id']}")
        fe.title(f"{h['from_name']} → {h['to_name']}")
        fe.link(href=base_url + url)
        fe.published(h["created_at"])
        fe.updated(h["created_at"])
        if h.get("actor__name"):
            fe.author({"name": h["actor__name"]})
        fe.content(h["message_html"] or "<p>No message.</p>", type="html")
        newest = max(newest, h["created_at"])
    fg.updated(newest)
    return fg.atom_str(pretty=True)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _epoch() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)
