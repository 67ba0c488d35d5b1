"""One bad record never fails its page or the run: it is dead-lettered with the reason."""

from __future__ import annotations

import urllib.request

import pytest

from connectors import jsontext
from scoring.types import Record
from sync.engine import Engine, RunOptions
from sync.page_scoring import MAX_VALUE_CHARS
from tests.sync.fakes import FakeCRM, FakeModel, fake_score
from tests.sync.hubspot_env import NOW, crm_state, sandbox, write_config
from tests.sync.test_e2e_hubspot import engine_for


def run(store, crm, scorer=fake_score):
    engine = Engine(
        store,
        crm,
        connection="acme",
        scorer=scorer,
        clock=lambda: crm.crm_now,
        sleep=lambda s: True,
    )
    return engine, engine.run("contact", FakeModel(), RunOptions(full=True, chunk_size=100))


def test_a_record_past_the_scoring_bound_is_dead_lettered_and_the_run_goes_on(store):
    crm = FakeCRM(120, page_size=50)
    crm.records["00007"].properties["points"] = "9" * (MAX_VALUE_CHARS + 1)
    _, result = run(store, crm)
    assert result.status == "succeeded"
    assert (result.counts.read, result.counts.scored, result.counts.written) == (120, 119, 119)
    assert result.counts.dead_lettered == 1
    [letter] = store.dead_letters("acme", "contact")
    assert (letter.record_id, letter.error_code) == ("00007", "input_too_large")
    assert letter.error == (
        f"points holds {MAX_VALUE_CHARS + 1:,} characters, more than the {MAX_VALUE_CHARS:,} "
        "a record may hand the scorer"
    )
    assert crm.records["00007"].outputs == {}
    assert store.get_cursor("acme", "contact").resume is None


def test_a_record_the_scorer_fails_on_is_dead_lettered_then_retried_once_fixed(store):
    crm = FakeCRM(60, page_size=50)

    def scorer(record: Record, model, now, previous):
        if record.properties.get("points") == "boom":
            raise OverflowError("cannot convert float infinity to integer")
        return fake_score(record, model, now, previous)

    crm.records["00003"].properties["points"] = "boom"
    engine, result = run(store, crm, scorer)
    assert (result.status, result.counts.written, result.counts.dead_lettered) == (
        "succeeded",
        59,
        1,
    )
    [letter] = store.dead_letters("acme", "contact")
    assert letter.error_code == "scoring_failed"
    assert letter.error == "OverflowError: cannot convert float infinity to integer"
    assert result.dead_letter_reasons == {
        "scoring_failed: OverflowError: cannot convert float infinity to integer": 1
    }
    crm.records["00003"].properties["points"] = "80"
    retried = engine.retry_dead_letters("contact", FakeModel(), RunOptions(chunk_size=100))
    assert (retried.status, retried.counts.written) == ("succeeded", 1)
    assert store.dead_letters("acme", "contact") == []
    assert crm.records["00003"].outputs["score"] == "80"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (b'{"a": "VP \\ud83d of sales"}', {"a": "VP \ufffd of sales"}),
        (b'{"a": ["\\udc00", "\\ud83d\\ude00"]}', {"a": ["\ufffd", "\U0001f600"]}),
        (b'{"\\ud800": 1}', {"\ufffd": 1}),
        (b'{"a": "plain"}', {"a": "plain"}),
    ],
)
def test_replies_with_lone_surrogates_decode_tolerantly(raw: bytes, parsed: object) -> None:
    assert jsontext.loads(raw) == parsed
    assert jsontext.encodable(jsontext.loads(raw.decode())) == parsed


def test_not_json_is_still_an_error() -> None:
    with pytest.raises(ValueError):
        jsontext.loads(b"<html>502</html>")


def test_a_reply_nested_past_the_parsers_depth_is_an_error_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValueError, match=r"^reply nested too deeply to parse$"):
        jsontext.loads(deep)
    assert jsontext.loads(b"[" * 500 + b"]" * 500) == jsontext.loads("[" * 500 + "]" * 500)


def test_a_lone_surrogate_from_hubspot_fails_neither_the_page_nor_the_run(tmp_path):
    sb = sandbox(150)
    try:
        env = write_config(tmp_path, sb)
        engine, model, store, conn, _ = engine_for(env, sb)
        contact = next(iter(crm_state(sb)))
        # HubSpot stores and returns what it is given: JSON with half a surrogate pair.
        body = b'{"properties": {"jobtitle": "Chief \\ud83d Officer"}}'
        request = urllib.request.Request(
            f"{sb.url}/crm/v3/objects/contacts/{contact}",
            data=body,
            method="PATCH",
            headers={"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).close()
        result = engine.run("contact", model, RunOptions(full=True), now=NOW)
        assert (result.status, result.counts.read, result.counts.dead_lettered) == (
            "succeeded",
            len(crm_state(sb)),
            0,
        )
        explained = [r for r in store.iter_latest("hs", "contact") if r[0].id == contact]
        assert explained[0][0].properties["jobtitle"] == "Chief \ufffd Officer"
        assert explained[0][1].fit > 0  # "chief" still matched
        conn.close()
        store.close()
    finally:
        sb.stop()
