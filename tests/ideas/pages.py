"""Reading our own pages in tests: a section by its heading id, a roadmap column, a board count."""

from __future__ import annotations

import re
from typing import Any

import httpx


def between(html: str, start: str, end: str) -> str:
    """The text from the first `start` to the next `end` after it ('' when `start` is absent)."""
    at = html.find(start)
    if at < 0:
        return ""
    stop = html.find(end, at + len(start))
    return html[at : stop if stop >= 0 else len(html)]


def roadmap_column(html: str, key: str) -> str:
    return between(html, f'aria-labelledby="col-{key}"', "</section>")


def recent_decisions(html: str) -> str:
    return between(html, 'id="changes-h"', "</section>")


def trending(html: str) -> str:
    return between(html, 'id="trending-h"', "</section>")


def board_counts(html: str) -> dict[str, int]:
    """Board name → the idea count the home page shows beside it."""
    boards = between(html, 'id="boards-h"', "</section>")
    found = re.findall(
        r'<a href="/ideas\?board=[^"]*">([^<]*)</a>.*?<span class="count">(\d+)</span>', boards, re.S
    )
    return {name: int(n) for name, n in found}


def card_ids(html: str) -> list[int]:
    """Ids of the idea cards on a list page, in order."""
    return [int(n) for n in re.findall(r'<article class="idea-card" id="idea-(\d+)">', html)]


def problem(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    """The problem document of an API error, after checking its status and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    return body


def rows_read(monkeypatch: Any, marker: str) -> list[int]:
    """How many rows each statement containing `marker` returns from now on, in order."""
    from portal import sql

    counts: list[int] = []
    fetch = sql.fetch

    async def counting(statement: str, *values: Any) -> list[dict[str, Any]]:
        found = await fetch(statement, *values)
        if marker in statement:
            counts.append(len(found))
        return found

    monkeypatch.setattr(sql, "fetch", counting)
    return counts
