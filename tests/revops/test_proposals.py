from itertools import pairwise

import numpy as np

from config.model_loader import parse_model
from revops.calibrate import Target, calibrate, earns_its_place, gain_summary
from revops.outcomes import label
from revops.proposals import candidates
from scoring.types import Record
from tests.revops.test_calibrate import NOW

MODEL = """\
name: m
object: contact
fit:
  rules:
    - {name: Big, if: {size: {gte: 100}}, points: 10}
interest:
  rules:
    - {name: Active, if: {visits: {gte: 1}}, points: 10}
"""


def test_candidates_are_half_open_bands_and_frequent_values_without_looking_at_outcomes():
    records = [
        {"size": str(i), "tier": ("gold", "silver", "bronze", "rare")[min(i % 40, 3)], "y": "1"}
        for i in range(200)
    ]
    found = candidates(records, exclude={"y"})
    bands = [c for c in found if c.property == "size"]
    assert len(bands) == 16  # `MAX_BANDS` quantile bands
    assert bands[0].condition == {"lt": 12.4375} and bands[-1].condition == {"gte": 186.562}
    assert all(a.condition.get("lt") == b.condition.get("gte") for a, b in pairwise(bands))
    assert sum(c.support for c in bands) == 200  # adjacent bands touch: no gap, no overlap
    values = {c.name: c.support for c in found if c.property == "tier"}
    assert values == {
        "tier is bronze": 5,
        "tier is gold": 5,
        "tier is rare": 185,
        "tier is silver": 5,
    }


def test_calibrate_proposes_the_signal_the_model_misses_and_keeps_it_in_the_file():
    rng = np.random.default_rng(5)
    n = 2000
    size = rng.integers(1, 400, n)
    region = rng.choice(["north", "south", "east"], n)
    visits = rng.integers(0, 4, n)
    logit = -2.0 + 0.004 * size + 1.8 * (region == "east") + 0.3 * visits
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    records = [
        Record(str(i), "contact", {"size": str(size[i]), "region": str(region[i]),
               "visits": str(visits[i]), "won": "yes" if won[i] else "no",
               "Lead Number": str(i)})
        for i in range(n)
    ]  # fmt: skip
    labelled = label(records, outcome="won", default_now=NOW)
    model = parse_model(MODEL)
    plain = calibrate(MODEL, model, labelled, Target(), source="m", out_name="p", folds=3,
                      outcome="won")  # fmt: skip
    wide = calibrate(MODEL, model, labelled, Target(), source="m", out_name="p", folds=3,
                     outcome="won", propose_rules=True)  # fmt: skip
    assert wide.auc_after > plain.auc_after + 0.05
    kept = {p.name: p for p in wide.proposed if p.kept}
    assert "region is east" in kept and kept["region is east"].gain > 0
    assert not any(p.property in ("won", "Lead Number") for p in wide.proposed)
    assert "name: region is east" in wide.text and "held-out gain" in wide.text
    proposed = parse_model(wide.text)
    assert {r.spec.name for g in proposed.fit.groups for r in g.rules} >= {"region is east"}
    assert all(p.points > 0 for p in kept.values())


def test_a_value_the_model_already_has_is_not_proposed_again_and_proposals_get_no_notes():
    rng = np.random.default_rng(7)
    n = 1500
    region = rng.choice(["north", "south", "east"], n)
    size = rng.integers(1, 400, n)
    visits = rng.integers(0, 4, n)
    won = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 1.8 * (region == "east") + 0.3 * visits)))
    records = [
        Record(str(i), "contact", {"size": str(size[i]), "region": str(region[i]),
               "visits": str(visits[i]), "won": "yes" if won[i] else "no"})
        for i in range(n)
    ]  # fmt: skip
    text = MODEL.replace(
        "    - {name: Big,",
        "    - {name: East region, if: {region: east}, points: 10}\n    - {name: Big,",
    )
    cal = calibrate(text, parse_model(text), label(records, outcome="won", default_now=NOW),
                    Target(), source="m", out_name="p", folds=3, outcome="won",
                    propose_rules=True)  # fmt: skip
    # `region is east` fires for exactly the records `East region` does: it would only split
    # that rule's points.
    repeat = next(p for p in cal.proposed if p.name == "region is east")
    assert (repeat.kept, repeat.points) == (False, 0.0)
    assert "region is east" not in cal.text
    assert {c.rule: c.after for c in cal.changes}["East region"] > 0
    # A proposed rule has no author's sign: it is in the proposed table, never a note's
    # "written as a penalty (+0)".
    names = {p.name for p in cal.proposed}
    assert not [note for note in cal.notes if note.split(":")[0] in names]


def test_a_proposed_rule_the_final_fit_zeroes_gets_no_note_of_a_sign_it_never_had():
    from revops.calibrate import Proposal, _notes
    from revops.features import Activity, Unit
    from revops.ladder import Ladder

    def unit(name: str, points: float) -> Unit:
        return Unit(name, name, None, "fit", None, False, points, "condition")

    units = (unit("Big", 10.0), unit("age 42 to under 45", 0.0))
    hits = np.array([[True, False], [False, True], [True, True], [False, False]])
    activity = Activity(units, hits.astype(float), hits, ())
    ladder = Ladder({"A": 0.0}, (1.0,))
    final = Proposal(
        "", parse_model(MODEL), {"Big": 0.0, "age 42 to under 45": 0.0}, (0.0, 0.0),
        ("Big", "age 42 to under 45"), (), None, None, ladder, ladder,
    )  # fmt: skip
    y = np.array([True, False, False, False])
    notes = _notes(activity, units, final, y, auc_before=0.5, auc_after=0.5,
                   proposed={"age 42 to under 45"})  # fmt: skip
    assert notes == [
        "Big: written as a bonus (+10); on its own it points the way it is written (converts "
        "50.0% when it fires, 0.0% otherwise), but the rules it fires together with already "
        "account for that; set to 0, review or remove it."
    ]


def test_a_proposal_within_the_folds_noise_is_not_kept_and_the_figures_are_the_kept_rules():
    rng = np.random.default_rng(11)
    n = 3000
    region = rng.choice(["north", "south", "east"], n)
    visits = rng.integers(0, 4, n)
    noise = rng.random(n)  # unrelated to the outcome: its bands only fit the folds' noise
    logit = -2.0 + 1.8 * (region == "east") + 0.3 * visits
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    records = [
        Record(str(i), "contact", {"size": "1", "region": str(region[i]), "visits": str(visits[i]),
               "noise": f"{noise[i]:.4f}", "won": "yes" if won[i] else "no"})
        for i in range(n)
    ]  # fmt: skip
    labelled = label(records, outcome="won", default_now=NOW)
    cal = calibrate(MODEL, parse_model(MODEL), labelled, Target(), source="m", out_name="p",
                    folds=5, outcome="won", propose_rules=True)  # fmt: skip
    kept = {p.name for p in cal.proposed if p.kept}
    assert kept == {"region is east", "visits 3 or more"}
    noisy = [p for p in cal.proposed if p.property == "noise"]
    assert len(noisy) == 16 and not [p.name for p in noisy if p.kept]
    assert all(p.gain >= 2 * p.gain_se for p in cal.proposed if p.kept)
    assert "(standard error 0.0206)" in cal.text
    # The held-out figures are those of the rules the written file holds: calibrating that
    # file as it is, on the same folds, measures exactly the same AUC in every fold.
    again = calibrate(cal.text, parse_model(cal.text), labelled, Target(), source="m",
                      out_name="p", folds=5, outcome="won")  # fmt: skip
    assert again.fold_auc_after == cal.fold_auc_after
    assert round(cal.auc_after, 4) == 0.7406


def test_gain_summary_is_the_mean_over_folds_and_its_standard_error():
    mean, se = gain_summary(np.array([[0.01, 0.0], [0.03, 0.0], [0.02, 0.0]]))
    assert [round(v, 6) for v in mean] == [0.02, 0.0]
    assert [round(v, 6) for v in se] == [0.005774, 0.0]  # std 0.01 (n - 1) over sqrt(3)
    single_mean, single_se = gain_summary(np.array([[0.01, 0.02]]))
    assert single_mean.tolist() == [0.01, 0.02] and single_se.tolist() == [0.0, 0.0]


def test_a_proposal_earns_its_place_with_a_gain_two_standard_errors_clear_of_zero():
    assert earns_its_place(0.002, 0.001)  # exactly two standard errors
    assert not earns_its_place(0.0019, 0.001)
    assert earns_its_place(0.0001, 0.0)  # the same gain in every fold
    assert not earns_its_place(0.0, 0.0)
    assert not earns_its_place(-0.01, 0.001)
