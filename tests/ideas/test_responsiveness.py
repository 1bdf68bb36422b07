"""Responsiveness figures against values worked out by hand on a fixed data set, on both backends.

The clock is fixed (`AT`); every date is set directly in the database. Nearest-rank percentiles:
the p-th percentile of n values is the value of rank ceil(p x n) in ascending order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from ideas import responsiveness
from ideas.models import Board, Idea, StatusChange
from portal.errors import Invalid
from tests.factories import make_board, make_idea

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = 3600.0
D = 86400.0


@pytest.fixture(autouse=True)
def _fresh_figures() -> Iterator[None]:
    # Figures are cached per board ids and minute: never let one test's database answer another's.
    responsiveness.clear_cache()
    yield
    responsiveness.clear_cache()


def ago(**kw: float) -> datetime:
    return AT - timedelta(**kw)


async def idea_at(
    board: Board,
    created: datetime,
    *,
    answer_h: float | None = None,
    decide_d: float | None = None,
    **fields: Any,
) -> Idea:
    """An idea posted at `created`, first answered `answer_h` hours and decided `decide_d` days later."""
    return await make_idea(
        board=board,
        created_at=created,
        last_activity_at=created,
        first_response_at=None if answer_h is None else created + timedelta(hours=answer_h),
        decided_at=None if decide_d is None else created + timedelta(days=decide_d),
        **fields,
    )


async def ship(idea: Idea, when: datetime, *, to: str = "shipped") -> None:
    await StatusChange.create(idea_id=idea.id, from_status="planned", to_status=to, created_at=when)


async def fixed_data_set() -> dict[str, Any]:
    """Board A: answer within 24 h, decide within 10 days. Window: 30 days before AT (2026-05-02 12:00)."""
    a = await make_board(slug="a", response_target_hours=24, decision_target_days=10)
    i1 = await idea_at(a, ago(days=20), answer_h=1, decide_d=2, promised_by=date(2026, 5, 27))
    i2 = await idea_at(a, ago(days=19), answer_h=2, decide_d=5, promised_by=date(2026, 6, 30))
    i3 = await idea_at(a, ago(days=18), answer_h=5, decide_d=12, promised_by=date(2026, 5, 28))
    await idea_at(a, ago(days=17), answer_h=30, promised_by=date(2026, 5, 31))
    await idea_at(a, ago(days=16), answer_h=100, promised_by=date(2026, 6, 1))
    # Never answered: one past its target (9 days), one still inside it (2 hours old).
    i6 = await idea_at(a, ago(days=9))
    i7 = await idea_at(a, ago(hours=2))
    # Before the window: counted in `waiting` when unanswered, never in the cohort.
    i8 = await idea_at(a, ago(days=40), answer_h=1, decide_d=1)
    await idea_at(a, ago(days=60))
    # Hidden and merged ideas count nowhere, even unanswered, shipped or promised.
    hidden = await idea_at(a, ago(days=5), answer_h=1, hidden_at=ago(days=1), promised_by=date(2026, 5, 1))
    await idea_at(a, ago(days=5), hidden_at=ago(days=1))
    await idea_at(a, ago(days=5), merged_into_id=i1.id)

    await ship(i1, ago(days=5))  # 2026-05-27 12:00: on its promised day, kept
    await ship(i3, ago(days=3))  # 2026-05-29: a day after its promise, late
    await ship(i3, ago(days=1))  # shipped again (reopened): still one idea, first shipping counts
    await ship(i8, ago(days=35))  # before the window
    await ship(hidden, ago(days=2))
    await ship(i2, ago(days=4), to="planned")  # not a shipping
    return {"a": a, "i1": i1, "i6": i6, "i7": i7}


async def test_figures_of_a_fixed_data_set_by_board_and_window(app: Starlette) -> None:
    data = await fixed_data_set()
    figures = await responsiveness.compute([data["a"].id], window=30, at=AT)
    assert figures.as_json() == {
        "window_days": 30,
        # answered cohort, ascending: 1 h, 2 h, 5 h, 30 h, 100 h; median rank 3, p90 rank 5
        "median_first_response_s": 5 * H,
        "p90_first_response_s": 100 * H,
        # within 24 h: 3; decidable: the 5 answered + 1 unanswered past its target (the 2-hour-old one waits)
        "answered_within_target_pct": 50.0,
        "waiting": 3,  # 9 days, 2 hours and 60 days old
        "shipped": 2,
        # decided cohort: 2, 5, 12 days; median rank 2
        "median_decision_s": 5 * D,
        # within 10 days: 2; decidable: the 3 decided + 2 undecided older than 10 days (17 and 16 days)
        "decided_within_target_pct": 40.0,
        # kept: shipped on its day; late: shipped a day after, unshipped past 31 May; open: due today, 30 June
        "promises_kept": 1,
        "promises_late": 2,
        "promises_open": 2,
    }

    # Each board counts against its own target.
    responsiveness.clear_cache()
    b = await make_board(slug="b", response_target_hours=48)
    await idea_at(b, ago(days=3), answer_h=30)  # late on A's 24 h, in time on B's 48 h

    figures = await responsiveness.compute([data["a"].id, b.id], window=30, at=AT)
    # 1, 2, 5, 30, 30, 100 hours: median rank 3, p90 rank ceil(5.4) = 6
    assert figures.median_first_response_s == 5 * H
    assert figures.p90_first_response_s == 100 * H
    assert figures.answered_within_target_pct == 57.1  # 4 of 7
    assert figures.waiting == 3

    alone = await responsiveness.compute([b.id], window=30, at=AT)
    assert alone.median_first_response_s == alone.p90_first_response_s == 30 * H
    assert alone.answered_within_target_pct == 100.0
    assert alone.waiting == 0
    assert alone.median_decision_s is None and alone.decided_within_target_pct is None

    # A shorter window narrows the cohort and the shipped count; waiting is of any age.
    responsiveness.clear_cache()
    week = await responsiveness.compute([data["a"].id], window=7, at=AT)
    # the only idea posted in the last 7 days (visible) is 2 hours old and not yet due
    assert week.median_first_response_s is None and week.p90_first_response_s is None
    assert week.answered_within_target_pct is None
    assert week.median_decision_s is None and week.decided_within_target_pct is None
    assert week.waiting == 3  # waiting is of any age
    assert week.shipped == 2  # 5 and 3 days ago
    assert week.window_days == 7

    responsiveness.clear_cache()
    day = await responsiveness.compute([data["a"].id], window=2, at=AT)
    assert day.shipped == 1  # i3, shipped again a day ago: a move to shipped during the window

    # A board without ideas, and no boards at all, give no figures.
    responsiveness.clear_cache()
    empty = await make_board(slug="empty")
    nothing = {
        "window_days": 30,
        "median_first_response_s": None,
        "p90_first_response_s": None,
        "answered_within_target_pct": None,
        "waiting": 0,
        "shipped": 0,
        "median_decision_s": None,
        "decided_within_target_pct": None,
        "promises_kept": 0,
        "promises_late": 0,
        "promises_open": 0,
    }
    assert (await responsiveness.compute([empty.id], window=30, at=AT)).as_json() == nothing
    assert (await responsiveness.compute([], window=30, at=AT)).as_json() == nothing


async def test_unanswered_ideas_wait_and_count_against_the_target_once_past_it(app: Starlette) -> None:
    board = await make_board(slug="t", response_target_hours=72)
    await idea_at(board, ago(hours=10), answer_h=2)
    fresh = await idea_at(board, ago(hours=71))  # 71 of 72 hours: not yet late
    figures = await responsiveness.compute([board.id], window=30, at=AT)
    assert figures.waiting == 1
    assert figures.answered_within_target_pct == 100.0  # 1 of 1: the fresh one is undecided yet

    # Two hours later it is past its target and counts against the share.
    responsiveness.clear_cache()
    later = await responsiveness.compute([board.id], window=30, at=AT + timedelta(hours=2))
    assert later.waiting == 1
    assert later.answered_within_target_pct == 50.0

    # Once answered (late), it leaves `waiting` and still counts as outside the target.
    await Idea.filter(id=fresh.id).update(first_response_at=AT + timedelta(hours=1, minutes=30))
    responsiveness.clear_cache()
    answered = await responsiveness.compute([board.id], window=30, at=AT + timedelta(hours=2))
    assert answered.waiting == 0
    assert answered.answered_within_target_pct == 50.0
    assert answered.median_first_response_s == 2 * H  # 2 h and 72.5 h: rank 1
    assert answered.p90_first_response_s == 72.5 * H

    # Figures are cached (per boards, window and minute) until cleared.
    responsiveness.clear_cache()
    board = await make_board(slug="c", response_target_hours=24)
    idea = await idea_at(board, ago(days=1))
    assert (await responsiveness.compute([board.id], at=AT)).waiting == 1
    await Idea.filter(id=idea.id).update(first_response_at=ago(hours=20))
    assert (await responsiveness.compute([board.id], at=AT)).waiting == 1  # the cached answer
    responsiveness.clear_cache()
    figures = await responsiveness.compute([board.id], at=AT)
    assert figures.waiting == 0
    assert figures.median_first_response_s == 4 * H


async def test_nothing_after_the_moment_of_the_figures_counts_and_promises_are_days(app: Starlette) -> None:
    board = await make_board(slug="f", response_target_hours=24)
    await idea_at(board, ago(days=3), answer_h=1)
    late_comer = await idea_at(board, AT + timedelta(days=1), answer_h=50)
    await idea_at(board, AT + timedelta(days=1))
    await ship(late_comer, AT + timedelta(days=2))
    promised = await idea_at(board, ago(days=3), answer_h=1, promised_by=date(2026, 6, 2))
    await ship(promised, AT + timedelta(hours=1))  # kept, but not yet at AT: open then
    figures = await responsiveness.compute([board.id], window=30, at=AT)
    assert figures.median_first_response_s == figures.p90_first_response_s == 1 * H
    assert figures.answered_within_target_pct == 100.0
    assert figures.waiting == 0
    assert figures.shipped == 0
    assert (figures.promises_kept, figures.promises_open) == (0, 1)

    responsiveness.clear_cache()
    later = await responsiveness.compute([board.id], window=30, at=AT + timedelta(days=3))
    assert later.waiting == 1
    assert later.shipped == 2
    assert later.p90_first_response_s == 50 * H
    assert (later.promises_kept, later.promises_open) == (1, 0)

    # Promises compare calendar days.
    responsiveness.clear_cache()
    board = await make_board(slug="p")
    kept_late_in_day = await idea_at(board, ago(days=50), promised_by=date(2026, 5, 10))
    await ship(kept_late_in_day, datetime(2026, 5, 10, 23, 59, tzinfo=UTC))
    late_by_a_minute = await idea_at(board, ago(days=50), promised_by=date(2026, 5, 10))
    await ship(late_by_a_minute, datetime(2026, 5, 11, 0, 1, tzinfo=UTC))
    await idea_at(board, ago(days=50), promised_by=date(2026, 5, 31))  # unshipped, past: late
    await idea_at(board, ago(days=50), promised_by=date(2026, 6, 1))  # unshipped, due today: open
    await idea_at(board, ago(days=50))  # no promise: not counted
    figures = await responsiveness.compute([board.id], at=AT)
    assert (figures.promises_kept, figures.promises_late, figures.promises_open) == (1, 2, 1)

    responsiveness.clear_cache()
    next_day = await responsiveness.compute([board.id], at=AT + timedelta(days=1))
    assert (next_day.promises_kept, next_day.promises_late, next_day.promises_open) == (1, 3, 0)


def test_window_parsing() -> None:
    assert responsiveness.parse_window(None) == 30
    assert responsiveness.parse_window("") == 30
    assert responsiveness.parse_window("7") == 7
    assert responsiveness.parse_window(str(responsiveness.MAX_WINDOW_DAYS)) == responsiveness.MAX_WINDOW_DAYS
    for bad in ("0", "-3", "abc", "1.5", str(responsiveness.MAX_WINDOW_DAYS + 1)):
        with pytest.raises(Invalid) as raised:
            responsiveness.parse_window(bad)
        assert set(raised.value.errors) == {"window"}


def test_durations_read_as_people_say_them() -> None:
    assert responsiveness.human(None) == "—"
    assert responsiveness.human(10) == "1 min"
    assert responsiveness.human(45 * 60) == "45 min"
    assert responsiveness.human(5 * H) == "5 h"
    assert responsiveness.human(3 * D) == "3 days"
