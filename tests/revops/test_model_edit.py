import textwrap
from pathlib import Path

from config.model_loader import parse_model
from revops.model_edit import Edits, apply_edits, unified_diff

MODEL = textwrap.dedent(
    """\
    # Admin's comment, kept.
    name: edit-me
    object: contact
    fit:
      rules:
        - {name: VP, if: {jobtitle: {contains: vp}}, points: 20}  # seniority
        - name: Opens
          property: opens
          bands:
            - {min: 1, max: 5, points: 2}
            - {min: 6, points: 6}
    interest:
      decay: {half_life_days: 30}
      rules:
        - {name: Pricing, event: page_view, where: {url: {contains: /pr}}, points: 10, max: 30}
        - name: Recent visit
          property: last_visit
          recency:
            - {within_days: 30, points: 4}
            - {within_days: 7, points: 10}
    grades:
      fit: {A: 75, B: 50, C: 25, D: 0}
      interest: {"1": 60, "2": 30, "3": 0}
    qualify:
      enter: {fit_grade: [A, B]}
      cooldown_days: 3
    """
)


def test_edits_keep_comments_layout_and_parse_to_the_intended_model():
    edits = Edits(
        points={
            ("VP", None): 25,
            ("Opens", 1): 8,
            ("Pricing", None): 15,
            # Recency steps are addressed in spec order (sorted by within_days): 0 is "7 days".
            ("Recent visit", 0): 12,
        },
        rule_max={"Pricing": 45},
        weights=(0.3, 0.7),
        grades={"A": 60, "B": 40, "C": 10, "D": 0},
        tiers={"1": 50, "2": 20, "3": 0},
        qualify=(40, 30),
        header="Calibrated.",
    )
    out = apply_edits(MODEL, edits)
    expected = textwrap.dedent(
        """\
        --- a.yaml
        +++ b.yaml
        @@ -1,26 +1,29 @@
        +# Calibrated.
         # Admin's comment, kept.
         name: edit-me
         object: contact
         fit:
           rules:
        -    - {name: VP, if: {jobtitle: {contains: vp}}, points: 20}  # seniority
        +    - {name: VP, if: {jobtitle: {contains: vp}}, points: 25}  # seniority
             - name: Opens
               property: opens
               bands:
                 - {min: 1, max: 5, points: 2}
        -        - {min: 6, points: 6}
        +        - {min: 6, points: 8}
         interest:
           decay: {half_life_days: 30}
           rules:
        -    - {name: Pricing, event: page_view, where: {url: {contains: /pr}}, points: 10, max: 30}
        +    - {name: Pricing, event: page_view, where: {url: {contains: /pr}}, points: 15, max: 45}
             - name: Recent visit
               property: last_visit
               recency:
                 - {within_days: 30, points: 4}
        -        - {within_days: 7, points: 10}
        +        - {within_days: 7, points: 12}
        +combine: {fit: 0.3, interest: 0.7}
         grades:
        -  fit: {A: 75, B: 50, C: 25, D: 0}
        -  interest: {"1": 60, "2": 30, "3": 0}
        +  fit: {A: 60, B: 40, C: 10, D: 0}
        +  interest: {"1": 50, "2": 20, "3": 0}
         qualify:
        -  enter: {fit_grade: [A, B]}
        +  enter: {score: {gte: 40}}
        +  exit: {score: {lt: 30}}
           cooldown_days: 3
        """
    )
    assert unified_diff(MODEL, out, "a.yaml", "b.yaml") == expected
    model = parse_model(out)
    spec = model.spec
    assert spec.weights == (0.3, 0.7)
    assert spec.grades == (("A", 60.0), ("B", 40.0), ("C", 10.0), ("D", 0.0))
    assert spec.tiers == (("1", 50.0), ("2", 20.0), ("3", 0.0))
    assert spec.qualify is not None and spec.qualify.cooldown_days == 3
    assert [(r.spec.name, r.spec.points, r.spec.max) for r in model.interest.groups[0].rules] == [
        ("Pricing", 15.0, 45.0),
        ("Recent visit", 0.0, None),
    ]
    assert [b.points for b in model.interest.groups[0].rules[1].spec.bands] == [12.0, 4.0]


def test_removing_every_rule_of_the_groups_an_edit_added_leaves_the_model_as_it_was():
    added = apply_edits(
        MODEL,
        Edits(
            add_groups=(
                ("interest", "Proposed: visits", (("visits 1 or more", "visits", {"gte": 1}, 0),)),
            )
        ),
    )
    assert "groups:" in added
    removed = apply_edits(added, Edits(remove=frozenset({"visits 1 or more"})))
    # no `groups: []` left behind: the model language refuses an empty list
    assert unified_diff(MODEL, removed, "a", "b") == ""
    assert [g.name for g in parse_model(removed).interest.groups] == [None]  # plain rules only


def test_no_edits_no_diff():
    assert unified_diff(MODEL, apply_edits(MODEL, Edits()), "a", "b") == ""


HOTTEST = "score: interest, aggregate: top_mean, top: 3"


def test_edits_reach_the_roll_up_rules_of_an_account_model():
    example = (
        Path(__file__).resolve().parents[2] / "config/examples/models/hubspot-companies.yaml"
    ).read_text()
    anchor = "    - name: Buying committee\n"
    assert example.count(anchor) == 1
    # a member-events roll-up in block style, whose `max` an edit reaches
    visits = "    - name: Recent visits\n      event: page_view\n      points: 4\n      max: 20\n"
    text = example.replace(anchor, visits + anchor)
    edits = Edits(
        points={("Hottest people", None): 0.25, ("Buying committee", 2): 55},
        rule_max={"Recent visits": 30},
    )
    out = apply_edits(text, edits)
    diff = [line for line in unified_diff(text, out, "a", "b").splitlines() if line[:1] in "+-"]
    assert diff == [
        "--- a",
        "+++ b",
        f"-    - {{name: Hottest people, {HOTTEST}, points: 0.6, max: 40}}",
        f"+    - {{name: Hottest people, {HOTTEST}, points: 0.25, max: 40}}",
        "-      max: 20",
        "+      max: 30",
        "-        - {min: 5, points: 40}",
        "+        - {min: 5, points: 55}",
    ]
    members = parse_model(out, "b").spec.members
    assert members is not None
    rollups = {r.name: r for r in members.rollups}
    assert (rollups["Hottest people"].points, rollups["Recent visits"].max) == (0.25, 30.0)
    assert rollups["Buying committee"].bands[2].points == 55.0
