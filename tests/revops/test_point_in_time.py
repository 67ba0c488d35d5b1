from datetime import UTC, datetime

from revops import leakage
from revops.point_in_time import (
    CutoffPolicy,
    as_of_cutoff,
    cutoffs,
    event_times,
    late_values,
    outputs_known_at,
    value_as_of,
    window_from,
)
from scoring.types import Event, Record


def day(d: int) -> datetime:
    return datetime(2026, 3, d, tzinfo=UTC)


CHANGES = [(day(2), "Open"), (day(9), "Working"), (day(20), "Closed - Converted")]


def test_value_as_of_takes_the_last_change_at_or_before_the_cutoff():
    assert value_as_of(CHANGES, day(1)) == (False, None)  # empty before its first value
    assert value_as_of(CHANGES, day(2)) == (False, None)  # set at the cutoff: not yet known
    assert value_as_of(CHANGES, day(3)) == (True, "Open")
    assert value_as_of(CHANGES, day(20)) == (True, "Working")
    assert value_as_of(CHANGES, day(25)) == (True, "Closed - Converted")


def test_cutoffs_per_record():
    now = day(28)
    dates = [day(20), None, None, day(3), day(30)]
    born = [day(1), day(5), None, day(10), day(1)]
    cuts, window = cutoffs(dates, born, now, CutoffPolicy(horizon_days=2))
    # outcome minus horizon; creation plus the window; now; never before creation; never after now
    assert cuts == [day(18), day(5 + 22), now, day(10), now]
    assert window == 22.0  # median of 17 (day 1 -> 18) and 27 (day 1 -> 28) days
    assert window_from([day(1)], [None]) == 90.0
    fixed, used = cutoffs([None], [day(1)], now, CutoffPolicy(window_days=3))
    assert (fixed, used) == ([day(4)], 3)


def test_as_of_cutoff_drops_later_events_and_rewinds_tracked_properties():
    record = Record(
        "1",
        "lead",
        {"Status": "Closed - Converted", "Title": "VP", "Rating": "Hot"},
        [Event("call", day(5)), Event("call", day(12))],
    )
    history = {"Status": CHANGES, "Rating": [(day(15), "Hot")]}
    taken, dropped = as_of_cutoff(record, day(10), history)
    assert dropped == 1
    assert [e.at for e in taken.events] == [day(5)]
    assert taken.properties == {"Status": "Working", "Title": "VP", "Rating": None}
    same, none = as_of_cutoff(record, day(30))
    assert same is record and none == 0


def test_late_values_count_converted_records_whose_value_came_after_the_outcome():
    records = [Record(str(i), "lead", {}) for i in range(4)]
    history = {
        "0": {"Status": CHANGES, "Title": [(day(1), "VP")]},
        "1": {"Status": CHANGES},
        "2": {"Status": CHANGES},  # not converted: not counted
        "3": {"Status": [(day(1), "")]},  # empty now: not counted
    }
    late = late_values(
        records, [True, True, False, True], [day(20), day(25), day(15), day(15)], history
    )
    assert late == {"Status": (1, 2), "Title": (0, 1)}  # record 0: set at its outcome moment


def test_as_of_cutoff_cuts_an_accounts_people_too():
    scored_before = {"interest": "80", "scored_at": day(8).isoformat()}
    scored_after = {"interest": "90", "scored_at": day(11).isoformat()}
    early = Record("p1", "contact", {}, [Event("page_view", day(4))], None, scored_before)
    late = Record(
        "p2", "contact", {}, [Event("page_view", day(6)), Event("page_view", day(14))], None,
        scored_after,
    )  # fmt: skip
    undated = Record("p3", "contact", {}, (), None, {"interest": "70"})
    account = Record("a", "company", {}, (), None, {}, members=(early, late, undated))
    taken, dropped = as_of_cutoff(account, day(10))
    assert dropped == 1  # p2's visit on day 14
    first, second, third = taken.members
    assert first is early  # nothing after the cutoff: the same person
    assert [e.at for e in second.events] == [day(6)]
    # a score written after the cutoff (or undated) was not known then
    assert (second.outputs, third.outputs) == ({}, {})
    assert event_times(account) == [day(4), day(6), day(14)]
    same, none = as_of_cutoff(Record("b", "company", {}, (), None, {}, members=(early,)), day(10))
    assert none == 0 and same.members[0] is early


def test_each_models_scores_of_a_person_count_by_their_own_scored_at():
    outputs = {
        "interest": "80",
        "scored_at": day(8).isoformat(),
        "pl_b_interest": "30",
        "pl_b_scored_at": day(12).isoformat(),
        "pl_c_score": "55",  # no pl_c_scored_at: undated, so not known
    }
    assert outputs_known_at(outputs, day(10)) == {
        "interest": "80",
        "scored_at": day(8).isoformat(),
    }
    assert outputs_known_at(outputs, day(13)) == {
        "interest": "80",
        "scored_at": day(8).isoformat(),
        "pl_b_interest": "30",
        "pl_b_scored_at": day(12).isoformat(),
    }
    assert outputs_known_at(outputs, day(7)) == {}
    known = {"pl_b_score": "1", "pl_b_scored_at": day(1).isoformat()}
    assert outputs_known_at(known, day(2)) is known
    person = Record("p1", "contact", {}, (), None, outputs)
    taken, _ = as_of_cutoff(Record("a", "company", {}, (), None, {}, members=(person,)), day(13))
    assert sorted(taken.members[0].outputs) == [
        "interest",
        "pl_b_interest",
        "pl_b_scored_at",
        "scored_at",
    ]


def test_a_counter_that_kept_moving_after_the_outcome_is_not_late():
    """HubSpot's page views had a value before the sale and grew with later visits: the backtest
    rewinds them, so only a value empty before the outcome, or set at its moment, is late."""
    records = [Record(str(i), "contact", {}) for i in range(4)]
    views = [(day(3), "2"), (day(8), "5"), (day(30), "9")]  # grew after the day-10 sale
    history = {
        "0": {"hs_analytics_num_page_views": views, "deal_owner": [(day(12), "ann")]},
        "1": {"hs_analytics_num_page_views": views, "deal_owner": [(day(10), "bob")]},
        "2": {"hs_analytics_num_page_views": [(day(15), "1")], "deal_owner": [(day(9), "cy")]},
        "3": {"hs_analytics_num_page_views": views, "stage": [(day(1), "lead"), (day(10), "won")]},
    }
    late = late_values(records, [True] * 4, [day(10)] * 4, history)
    assert late == {
        "hs_analytics_num_page_views": (1, 4),  # only record 2: first viewed after its sale
        "deal_owner": (2, 3),  # first set at (record 1) or after (record 0) the sale
        "stage": (1, 1),  # had a value, and the sale itself set another
    }
    flagged = leakage.set_after_outcome(late)
    assert [str(w) for w in flagged] == [
        "deal_owner: the CRM's history shows the value was empty before the outcome or set by it "
        "for 2 of 3 converted records: it records the sale, not a sign of it",
        "stage: the CRM's history shows the value was empty before the outcome or set by it for "
        "1 of 1 converted records: it records the sale, not a sign of it",
    ]
    # an outcome with a time of day (HubSpot's lifecycle dates): only its very moment counts
    sold = datetime(2026, 3, 10, 14, 3, tzinfo=UTC)
    later_that_day = [(day(3), "2"), (datetime(2026, 3, 10, 16, 0, tzinfo=UTC), "3")]
    stamped = [(day(3), "lead"), (sold, "customer")]
    late = late_values(
        records[:1], [True], [sold], {"0": {"views": later_that_day, "stage": stamped}}
    )
    assert late == {"views": (0, 1), "stage": (1, 1)}
