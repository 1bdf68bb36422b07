"""Fills a PostgreSQL database with a large, realistic community, fast (COPY through asyncpg).

    python bench/seed.py postgres://postgres@127.0.0.1:5432/hearken_bench [--scale 1.0]

At scale 1: 50,000 members, 10 boards, 100,000 ideas, 1,000,000 votes, 300,000 comments and a
status history for every idea that left `open`. Votes follow a power law (a few ideas collect most
of them), as on real portals. The database is created if missing, migrated, and must be empty.
Every member's password is `bench-password`; members 1..1000 have API tokens `hk_bench_<n>`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ideas import ranking
from portal import db
from portal.features import load_features
from portal.settings import Settings

PASSWORD = "bench-password"
TOKENS = 1000
WORDS = (
    "export dashboard offline sync mobile widget report calendar reminder search filter tag share "
    "comment mention notification email slack api webhook integration import csv pdf chart timeline "
    "template recurring task project team permission role login sso security audit dark theme "
    "keyboard shortcut bulk edit archive undo attachment upload image preview print invoice budget"
).split()
# Bodies draw from a large vocabulary with a Zipf-like skew, as real text does: a content word then
# occurs in a small share of ideas, not in most of them (which made every search term match 70%).
_SYLLABLES = "ka lo mi ne su ta ri po ve da go li mu sa te bo".split()
VOCABULARY = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES][:3000]
VOCABULARY_WEIGHTS = [1 / (rank + 10) for rank in range(len(VOCABULARY))]
STATUSES = ("open", "under_review", "planned", "in_progress", "shipped", "declined")
STATUS_WEIGHTS = (55, 12, 10, 6, 12, 5)


def _dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


async def _ensure_database(url: str) -> None:
    base, name = _dsn(url).rsplit("/", 1)
    conn = await asyncpg.connect(base + "/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _title(rng: random.Random, n: int) -> str:
    words = rng.sample(WORDS, k=rng.randint(3, 7))
    return (" ".join(words).capitalize() + f" ({n})")[:140]


async def seed(url: str, scale: float) -> None:
    started = time.perf_counter()
    rng = random.Random(2026)
    n_users = max(100, int(50_000 * scale))
    n_ideas = max(100, int(100_000 * scale))
    n_votes = int(1_000_000 * scale)
    n_comments = int(300_000 * scale)
    await _ensure_database(url)
    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40)
    await db.migrate(db.tortoise_config(settings, load_features(settings.features)))
    conn = await asyncpg.connect(_dsn(url))
    try:
        if await conn.fetchval("SELECT count(*) FROM users"):
            raise SystemExit("the database is not empty; seed an empty one")
        now = datetime.now(UTC)
        password_hash = PasswordHasher().hash(PASSWORD)

        users = [
            (
                i,
                f"member{i}@bench.example",
                f"Member {i}",
                password_hash,
                "member",
                now,
                None,
                1,
                now - timedelta(days=400),
            )
            for i in range(1, n_users + 1)
        ]
        users[0] = (
            1,
            "staff@bench.example",
            "Bench Staff",
            password_hash,
            "staff",
            now,
            None,
            1,
            now - timedelta(days=500),
        )
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=[
                "id",
                "email",
                "name",
                "password_hash",
                "role",
                "email_verified_at",
                "banned_at",
                "session_version",
                "created_at",
            ],
        )
        tokens = []
        for i in range(1, min(TOKENS, n_users) + 1):
            token = f"hk_bench_{i}"
            tokens.append((i, i, "bench", hashlib.sha256(token.encode()).hexdigest(), token[:10], now))
        await conn.copy_records_to_table(
            "api_tokens",
            records=tokens,
            columns=["id", "user_id", "name", "token_hash", "prefix", "created_at"],
        )
        boards = [
            (b, f"board-{b}", f"Board {b}", "", "public", None, b, 72, 30, now - timedelta(days=500))
            for b in range(1, 11)
        ]
        await conn.copy_records_to_table(
            "boards",
            records=boards,
            columns=[
                "id",
                "slug",
                "name",
                "description",
                "visibility",
                "min_tier",
                "position",
                "response_target_hours",
                "decision_target_days",
                "created_at",
            ],
        )
        print(f"users, tokens, boards: {time.perf_counter() - started:.1f}s", flush=True)

        # Power-law popularity: idea i gets a weight ~ 1 / rank^0.9.
        weights = [1 / (r + 1) ** 0.9 for r in range(n_ideas)]
        total = sum(weights)
        ideas = []
        created_of = {}
        status_of = {}
        for i in range(1, n_ideas + 1):
            created = now - timedelta(days=rng.uniform(0, 365), seconds=rng.randint(0, 86400))
            # The first 2,000 ideas stay open, so the voting benchmark has ideas that take votes.
            status = "open" if i <= 2000 else rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            title = _title(rng, i)
            body = " ".join(
                rng.choices(VOCABULARY, VOCABULARY_WEIGHTS, k=rng.randint(20, 80)) + rng.sample(WORDS, k=2)
            )
            first = (
                created + timedelta(hours=rng.expovariate(1 / 60))
                if status != "open" or rng.random() < 0.3
                else None
            )
            decided = (
                first + timedelta(days=rng.uniform(0, 40))
                if status not in ("open", "under_review") and first
                else None
            )
            created_of[i], status_of[i] = created, status
            ideas.append(
                (i, (i % 10) + 1, rng.randint(2, n_users), title, title.lower().replace(" ", "-")[:80], body, f"<p>{body}</p>",
                 status, 0, 0, 0.0, " ".join(rng.sample(WORDS, k=2)), False, first, decided,
                 first or created, created, created)
            )  # fmt: skip
        await conn.copy_records_to_table(
            "ideas",
            records=ideas,
            columns=["id", "board_id", "author_id", "title", "slug", "body_md", "body_html", "status_id", "vote_count",
                     "comment_count", "trending_score", "tags_text", "comments_locked", "first_response_at",
                     "decided_at", "last_activity_at", "created_at", "updated_at"],
        )  # fmt: skip
        print(f"ideas: {time.perf_counter() - started:.1f}s", flush=True)

        votes = []
        vote_id = 0
        remaining = n_votes
        for i in range(1, n_ideas + 1):
            k = min(n_users - 1, round(n_votes * weights[i - 1] / total)) if remaining > 0 else 0
            k = min(k, remaining)
            remaining -= k
            for user_id in rng.sample(range(2, n_users + 1), k) if k else ():
                vote_id += 1
                at = created_of[i] + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                votes.append((vote_id, i, user_id, None, "", min(at, now)))
        # Spread what rounding left over across random ideas.
        while remaining > 0:
            i = rng.randint(1, n_ideas)
            user_id = rng.randint(2, n_users)
            vote_id += 1
            votes.append((vote_id, i, user_id, None, "", now))
            remaining -= 1
        seen = set()
        unique_votes = []
        for v in votes:
            if (v[1], v[2]) not in seen:
                seen.add((v[1], v[2]))
                unique_votes.append(v)
        await conn.copy_records_to_table(
            "votes",
            records=unique_votes,
            columns=["id", "idea_id", "user_id", "priority", "source_note", "created_at"],
        )
        print(f"votes ({len(unique_votes):,}): {time.perf_counter() - started:.1f}s", flush=True)

        comments = []
        # Idea 1 is the benchmark's idea page: exactly 50 comments.
        targets = [1] * 50 + [
            rng.choices(range(2, n_ideas + 1), k=1)[0] for _ in range(max(0, n_comments - 50))
        ]
        for c, idea_id in enumerate(targets, start=1):
            body = " ".join(rng.choices(VOCABULARY, VOCABULARY_WEIGHTS, k=rng.randint(5, 40)))
            at = created_of[idea_id] + timedelta(hours=rng.randint(1, 2000))
            comments.append(
                (c, idea_id, rng.randint(2, n_users), body, f"<p>{body}</p>", False, False, min(at, now))
            )
        await conn.copy_records_to_table(
            "comments",
            records=comments,
            columns=[
                "id",
                "idea_id",
                "author_id",
                "body_md",
                "body_html",
                "by_staff",
                "internal",
                "created_at",
            ],
        )
        print(f"comments: {time.perf_counter() - started:.1f}s", flush=True)

        history = []
        path = {"under_review": ["under_review"], "planned": ["under_review", "planned"],
                "in_progress": ["planned", "in_progress"], "shipped": ["planned", "in_progress", "shipped"],
                "declined": ["declined"]}  # fmt: skip
        h = 0
        for i, status in status_of.items():
            previous = "open"
            at = created_of[i]
            for step in path.get(status, []):
                h += 1
                at = min(now, at + timedelta(days=rng.uniform(0.5, 20)))
                history.append(
                    (h, i, 1, previous, step, "We looked at this.", "<p>We looked at this.</p>", at)
                )
                previous = step
        await conn.copy_records_to_table(
            "status_changes",
            records=history,
            columns=[
                "id",
                "idea_id",
                "actor_id",
                "from_status",
                "to_status",
                "message_md",
                "message_html",
                "created_at",
            ],
        )
        print(f"status history ({len(history):,}): {time.perf_counter() - started:.1f}s", flush=True)

        # Counters and trending scores from the rows, as `repair-counters` would compute them.
        epoch, half = ranking.EPOCH, ranking.HALF_LIFE.total_seconds()
        await conn.execute(
            f"""
            UPDATE ideas i SET vote_count = v.n FROM (SELECT idea_id, count(*) n FROM votes GROUP BY idea_id) v
              WHERE v.idea_id = i.id;
            UPDATE ideas i SET comment_count = c.n FROM (SELECT idea_id, count(*) n FROM comments GROUP BY idea_id) c
              WHERE c.idea_id = i.id;
            UPDATE ideas SET trending_score =
              {ranking.WEIGHTS["idea"]} * power(2, extract(epoch FROM created_at - '{epoch.isoformat()}') / {half});
            UPDATE ideas i SET trending_score = i.trending_score + v.s FROM (
              SELECT idea_id, sum({ranking.WEIGHTS["vote"]} * power(2, extract(epoch FROM created_at - '{epoch.isoformat()}') / {half})) s
              FROM votes GROUP BY idea_id) v WHERE v.idea_id = i.id;
            UPDATE ideas i SET trending_score = i.trending_score + c.s FROM (
              SELECT idea_id, sum({ranking.WEIGHTS["comment"]} * power(2, extract(epoch FROM created_at - '{epoch.isoformat()}') / {half})) s
              FROM comments GROUP BY idea_id) c WHERE c.idea_id = i.id;
            """
        )
        for table in ("users", "api_tokens", "boards", "ideas", "votes", "comments", "status_changes"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        # The counter updates above left a dead version of every idea: compact, as autovacuum would.
        await conn.execute("VACUUM (FULL, ANALYZE) ideas")
        # Then the steady state autovacuum keeps on a live database: every table's visibility map
        # set (index-only scans need not visit the heap) and its statistics current.
        await conn.execute("VACUUM (ANALYZE)")
        print(f"counters, trending, vacuum: {time.perf_counter() - started:.1f}s", flush=True)
    finally:
        await conn.close()
    print(
        f"seeded {n_users:,} members, {n_ideas:,} ideas, {len(unique_votes):,} votes, {len(comments):,} comments, "
        f"{len(history):,} status changes in {time.perf_counter() - started:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="postgres:// URL of the database to fill (created if missing)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 ideas; 0.01 = 1,000 ideas")
    args = parser.parse_args()
    if not args.url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/seed.py fills PostgreSQL only")
    asyncio.run(seed(args.url, args.scale))


if __name__ == "__main__":
    main()
