import numpy as np
import pytest

from revops import fitting


def synthetic(n: int = 20000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 3)).astype(float)
    logit = -2.0 + 1.5 * x[:, 0] - 1.0 * x[:, 1] + 0.0 * x[:, 2]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y


def test_free_signs_recover_the_generating_weights():
    x, y = synthetic()
    w = fitting.fit_weights(x, y, [0, 0, 0])
    assert w.zeroed == ()
    assert w.coef[0] == pytest.approx(1.5, abs=0.2)
    assert w.coef[1] == pytest.approx(-1.0, abs=0.2)
    assert w.intercept == pytest.approx(-2.0, abs=0.2)


def test_a_bonus_the_data_contradicts_gets_zero_weight_not_a_penalty():
    x, y = synthetic()
    w = fitting.fit_weights(x, y, [1, 1, 0])
    assert w.zeroed == (1,)
    assert w.coef[1] == 0.0
    assert w.coef[0] > 1.0


def test_constant_columns_get_zero_weight_and_one_class_is_refused():
    x, y = synthetic()
    x[:, 2] = 1.0
    assert fitting.fit_weights(x, y, [0, 0, 0]).coef[2] == 0.0
    with pytest.raises(ValueError, match="single class"):
        fitting.fit_weights(x, np.zeros(len(y), dtype=bool), [0, 0, 0])


def test_threshold_for_precision_is_the_lowest_that_reaches_the_target():
    scores = [10, 9, 8, 7, 6]
    outcomes = [True, True, False, True, False]
    assert fitting.threshold_for_precision(scores, outcomes, 0.75) == 7.0
    assert fitting.threshold_for_precision(scores, outcomes, 1.0) == 9.0
    assert fitting.threshold_for_precision(scores, [False] * 5, 0.1) is None


def test_threshold_for_share_respects_the_capacity():
    scores = [10, 9, 8, 7, 6]
    assert fitting.threshold_for_share(scores, 0.4) == 9.0
    assert fitting.threshold_for_share(scores, 1.0) == 6.0
    assert fitting.threshold_for_share(scores, 0.1) is None
    assert fitting.threshold_for_share([5, 5, 5, 1], 0.5) is None


def test_grade_thresholds_from_population_shares():
    assert fitting.ladder_shares(4) == [0.1, 0.2, 0.3, 0.4]
    values = list(range(1, 11))
    assert fitting.quantile_thresholds(values, [0.1, 0.2, 0.3, 0.4]) == [10.0, 8.0, 5.0, 0.0]
    # Ties: thresholds never increase down the ladder.
    assert fitting.quantile_thresholds([7] * 8 + [1, 0], [0.1, 0.2, 0.3, 0.4]) == [
        7.0,
        7.0,
        7.0,
        0.0,
    ]
