"""`compile_matcher`: the model's regex test, remembered per short text."""

from __future__ import annotations

from scoring import patterns
from scoring.coerce import clear_memos
from scoring.patterns import MEMO_ENTRIES, MEMO_TEXT_CHARS, compile_matcher, compile_pattern


class CountingSearch:
    """A pattern's search that counts the texts it is asked about."""

    def __init__(self, pattern: str) -> None:
        self.search = compile_pattern(pattern)
        self.calls: list[str] = []

    def __call__(self, text: str) -> object:
        self.calls.append(text)
        return self.search(text)


def test_matcher_answers_as_the_search_and_asks_it_once_per_short_text(monkeypatch):
    counting = CountingSearch(r"\bvp\b")
    monkeypatch.setattr(patterns, "compile_pattern", lambda pattern: counting)
    matches = compile_matcher(r"\bvp\b")
    answers = [matches(t) for t in ["VP Sales", "Engineer", "VP Sales", "vp", "Engineer"]]
    assert answers == [True, False, True, True, False]
    assert counting.calls == ["VP Sales", "Engineer", "vp"]
    long_text = "vp " + "x" * MEMO_TEXT_CHARS
    assert matches(long_text) and matches(long_text)
    assert counting.calls[-2:] == [long_text, long_text]  # long texts are not remembered
    clear_memos()
    assert matches("VP Sales")
    assert counting.calls[-1] == "VP Sales"  # asked again after the memos were cleared


def test_matcher_memo_starts_over_when_full(monkeypatch):
    counting = CountingSearch("x")
    monkeypatch.setattr(patterns, "compile_pattern", lambda pattern: counting)
    matches = compile_matcher("x")
    for number in range(MEMO_ENTRIES + 1):
        matches(str(number))
    counting.calls.clear()
    matches("0")  # the memo was emptied when full, so the first text was forgotten
    matches(str(MEMO_ENTRIES))  # and the one that arrived then is remembered
    assert counting.calls == ["0"]
