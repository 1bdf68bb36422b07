"""The framework's limit on this machine: bare Starlette + Jinja2 + asyncpg, no ORM, no middleware.

It renders the same 20 rows the portal's idea list shows (trending order, with board, status and
author), from the same database, so the portal's figures can be read as a share of this one.

    HEARKEN_BENCH_URL=postgres://... uvicorn bench.anchor:app --workers 2
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

QUERY = """
SELECT i.id, i.title, i.slug, i.vote_count, i.comment_count, i.tags_text, i.created_at,
       b.slug AS board_slug, b.name AS board_name, s.name AS status_name, s.color AS status_color,
       u.name AS author_name
FROM ideas i JOIN boards b ON b.id = i.board_id JOIN statuses s ON s.key = i.status_id
JOIN users u ON u.id = i.author_id
WHERE i.hidden_at IS NULL AND i.merged_into_id IS NULL
ORDER BY i.trending_score DESC, i.id DESC LIMIT 20
"""

TEMPLATE = Environment(autoescape=True).from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ideas</title></head><body>
<main><h1>All ideas</h1>
{% for i in rows %}<article class="idea-card" id="idea-{{ i.id }}">
<div class="vote"><span>{{ i.vote_count }}</span></div>
<h3><a href="/ideas/{{ i.id }}-{{ i.slug }}">{{ i.title }}</a></h3>
<p><span style="--status: {{ i.status_color }}">{{ i.status_name }}</span>
<a href="/ideas?board={{ i.board_slug }}">{{ i.board_name }}</a> {{ i.comment_count }} comments
by {{ i.author_name }} <time>{{ i.created_at.strftime('%d %b %Y') }}</time></p>
<ul>{% for t in i.tags_text.split() %}<li>#{{ t }}</li>{% endfor %}</ul></article>{% endfor %}
</main></body></html>"""
)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["HEARKEN_BENCH_URL"]
    app.state.pool = await asyncpg.create_pool(
        "postgresql://" + url.split("://", 1)[1], min_size=4, max_size=10
    )
    yield
    await app.state.pool.close()


async def ideas(request: Request) -> HTMLResponse:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(QUERY)
    return HTMLResponse(TEMPLATE.render(rows=rows))


app = Starlette(routes=[Route("/ideas", ideas)], lifespan=lifespan)
