"""The trending score.

Every vote and comment adds a weight that doubles every HALF_LIFE after a fixed epoch:

    trending_score = sum over events of  w(kind) * 2 ** ((t_event - EPOCH) / HALF_LIFE)

with w(vote) = 1 and w(comment) = 0.5. Comparing two ideas now, an event one half-life older counts
half as much, so recent activity wins over old totals, exactly as if every score were decayed by
its age, yet a new event only adds a number (an atomic `UPDATE ... SET score = score + w`) and no
job has to recompute scores as time passes. Removing a vote subtracts what it added. With a
seven-day half-life the numbers stay far inside a double's range for decades; `repair-counters`
recomputes scores from the source rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
HALF_LIFE = timedelta(days=7)
WEIGHTS = {"vote": 1.0, "comment": 0.5, "idea": 1.0}


def weight(kind: str, at: datetime) -> float:
    return WEIGHTS[kind] * 2.0 ** ((at - EPOCH) / HALF_LIFE)
