from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from scoring.types import Contribution, ScoreResult
from sync.state.records import (
    OutboxEntry,
    contributions_text,
    dumps,
    encode_result,
    loads,
    payload_contributions,
)


def test_dumps_writes_compact_utf8_json_with_iso_datetimes():
    value = {"name": "Démo", "at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "n": (1, 2.5)}
    assert dumps(value) == '{"name":"Démo","at":"2026-03-01T12:00:00+00:00","n":[1,2.5]}'


def test_dumps_takes_non_string_keys_big_integers_and_unknown_types():
    assert dumps({1: "a", "b": 2}) == '{"1":"a","b":2}'
    assert dumps({date(2026, 1, 2): True}) == '{"2026-01-02":true}'
    assert dumps({"x": 2**70}) == '{"x":1180591620717411303424}'
    assert dumps({"price": Decimal("9.90")}) == '{"price":"9.90"}'
    assert loads(dumps({"x": 2**70})) == {"x": 2**70}


def _result(*contributions: Contribution, label: str = "A1") -> ScoreResult:
    return ScoreResult(
        fit=90, interest=70, score=80, grade="A", tier="1", label=label, qualified=True,
        disqualified_reason=None, contributions=contributions, reasons=("+35 x",),
        completeness=1.0, model_version="v1",
    )  # fmt: skip


@pytest.mark.parametrize(
    "result",
    [
        _result(),
        _result(Contribution("VP", "fit", 40.0), Contribution("Demo", "interest", 35.5, "2 forms")),
        # values holding the markers the cut looks for, as a CRM or a model may
        _result(
            Contribution('"contributions":[', "fit", 1.0, '],"reasons":["x"]', "G", 2.25),
            label='"contributions":[]',
        ),
    ],
)
def test_contributions_text_is_the_encoded_array_cut_out(result: ScoreResult) -> None:
    text = encode_result(result)
    cut = contributions_text(text)
    assert cut == dumps(loads(text)["contributions"])
    assert loads(cut) == loads(text)["contributions"]


def test_contributions_text_of_another_layout_is_parsed() -> None:
    text = '{"reasons":["+1 r"],"contributions":[{"rule":"r","dimension":"fit","points":1.0}]}'
    assert contributions_text(text) == '[{"rule":"r","dimension":"fit","points":1.0}]'
    assert contributions_text("{}") == "[]"


def test_a_payload_keeps_the_contributions_alone_and_both_layouts_read_back() -> None:
    result = _result(Contribution("Meeting held", "interest", 20.0, "1 meeting", None, 3.5))
    entry = OutboxEntry.build(
        "7", new={"score": 80}, old={}, reasons=["new"],
        contributions=contributions_text(encode_result(result)), model_version="v1",
    )  # fmt: skip
    assert entry.payload == (
        '{"new":{"score":80},"old":{},"reasons":["new"],"contributions":'
        '[{"rule":"Meeting held","dimension":"interest","points":20.0,"detail":"1 meeting",'
        '"age_days":3.5}]}'
    )
    assert payload_contributions(entry.data()) == [
        {"rule": "Meeting held", "dimension": "interest", "points": 20.0,
         "detail": "1 meeting", "age_days": 3.5},
    ]  # fmt: skip
    # a payload written before: the whole result, read down to its contributions' essentials
    older = {"result": loads(encode_result(result))}
    assert payload_contributions(older) == [
        {"rule": "Meeting held", "dimension": "interest", "points": 20.0, "detail": "1 meeting"}
    ]
