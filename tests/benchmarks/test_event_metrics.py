"""The event-grouping scores against published and hand-worked values."""

from __future__ import annotations

import pytest

from benchmarks.event_metrics import adjusted_rand, bcubed, labels_of, pairwise, wilson


def _labels(items: str, clusters: str) -> dict[str, str]:
    return dict(zip(items, clusters, strict=True))


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    # Newcombe, "Two-sided confidence intervals for the single proportion" (Stat Med 1998,
    # 17:857-872), Table II, method 3 (Wilson score interval without continuity correction).
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombes_table(successes: int, total: int, low: float, high: float) -> None:
    p, lo, hi = wilson(successes, total)
    assert p == pytest.approx(successes / total)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    # The examples of scikit-learn's `adjusted_rand_score` documentation.
    [
        ("0011", "0011", 1.0),
        ("0011", "1100", 1.0),
        ("0011", "0012", 4 / 7),
        ("0000", "0123", 0.0),
        ("0011", "0101", -0.5),
    ],
)
def test_adjusted_rand_matches_scikit_learn_examples(truth: str, predicted: str, expected: float) -> None:
    assert adjusted_rand(_labels("abcd", truth), _labels("abcd", predicted)) == pytest.approx(expected)


def test_bcubed_worked_example() -> None:
    # Truth {a,b,c} {d,e}; prediction {a,b} {c,d,e}. Precision per item: 1, 1, 1/3, 2/3, 2/3;
    # recall per item: 2/3, 2/3, 1/3, 1, 1 — both average 11/15.
    precision, recall, f1 = bcubed(_labels("abcde", "00011"), _labels("abcde", "00111"))
    assert precision == pytest.approx(11 / 15)
    assert recall == pytest.approx(11 / 15)
    assert f1 == pytest.approx(11 / 15)


def test_pairwise_counts_pairs_of_the_same_example() -> None:
    # Labelled pairs: ab ac bc de (4). Predicted: ab cd ce de (4). Both: ab de.
    scores = pairwise(_labels("abcde", "00011"), _labels("abcde", "00111"))
    assert (scores.true_positive, scores.predicted, scores.actual) == (2, 4, 4)
    assert (scores.precision, scores.recall, scores.f1) == (0.5, 0.5, 0.5)
    assert scores.precision_interval() == wilson(2, 4)


def test_every_item_alone_has_full_precision_and_no_recall() -> None:
    truth = _labels("abcde", "00011")
    alone = labels_of([], list("abcde"))
    scores = pairwise(truth, alone)
    assert (scores.precision, scores.recall) == (1.0, 0.0)
    assert adjusted_rand(truth, alone) == 0.0


def test_scores_refuse_different_item_sets() -> None:
    with pytest.raises(ValueError, match="same items"):
        pairwise(_labels("ab", "00"), _labels("abc", "000"))
