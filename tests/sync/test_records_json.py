from datetime import UTC, date, datetime
from decimal import Decimal

from sync.state.records import dumps, loads


def test_dumps_writes_compact_utf8_json_with_iso_datetimes():
    value = {"name": "Démo", "at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "n": (1, 2.5)}
    assert dumps(value) == '{"name":"Démo","at":"2026-03-01T12:00:00+00:00","n":[1,2.5]}'


def test_dumps_takes_non_string_keys_big_integers_and_unknown_types():
    assert dumps({1: "a", "b": 2}) == '{"1":"a","b":2}'
    assert dumps({date(2026, 1, 2): True}) == '{"2026-01-02":true}'
    assert dumps({"x": 2**70}) == '{"x":1180591620717411303424}'
    assert dumps({"price": Decimal("9.90")}) == '{"price":"9.90"}'
    assert loads(dumps({"x": 2**70})) == {"x": 2**70}
