from revops.formatting import fmt, pct, table


def test_counts_take_thousands_separators_and_other_cells_keep_their_form():
    assert [fmt(41188), fmt(999), fmt(0), fmt(True), fmt(0.12345), fmt(None)] == [
        "41,188",
        "999",
        "0",
        "True",
        "0.123",
        "–",
    ]
    assert fmt(float("inf")) == "∞"
    assert pct(0.1127) == "11.3%"


def test_table_aligns_separated_counts():
    text = table(["decile", "records"], [["1", 4119], ["10", 41188]])
    assert text.splitlines() == ["decile  records", "1         4,119", "10       41,188"]
