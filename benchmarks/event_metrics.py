"""Scores of a grouping against labels: pairwise precision/recall/F1 with Wilson intervals,
B-cubed precision/recall/F1, and the adjusted Rand index. Pure functions over two mappings
item → cluster label (the truth and a prediction over the same items).

Pairwise: a pair of items is a positive when both are in one cluster; precision is the share of
predicted same-cluster pairs that are labelled same-event, recall the share of labelled pairs
that are predicted. B-cubed (Bagga & Baldwin 1998; Amigó et al. 2009) averages, per item, the
share of its predicted cluster that shares its label (precision) and the share of its labelled
event that shares its predicted cluster (recall). ARI is Hubert & Arabie's (1985) chance-corrected
Rand index, as scikit-learn's `adjusted_rand_score` computes it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float, float]:
    """The proportion and its Wilson score interval (Wilson 1927; Newcombe 1998, method 3)."""
    if total == 0:
        return (math.nan, math.nan, math.nan)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (p, max(0.0, centre - half), min(1.0, centre + half))


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass(frozen=True, slots=True)
class PairScores:
    true_positive: int
    predicted: int  # predicted same-cluster pairs
    actual: int  # labelled same-event pairs

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def precision_interval(self) -> tuple[float, float, float]:
        return wilson(self.true_positive, self.predicted)

    def recall_interval(self) -> tuple[float, float, float]:
        return wilson(self.true_positive, self.actual)


def _check(truth: Mapping[str, str], predicted: Mapping[str, str]) -> None:
    if truth.keys() != predicted.keys():
        raise ValueError("truth and prediction must label the same items")


def pairwise(truth: Mapping[str, str], predicted: Mapping[str, str]) -> PairScores:
    _check(truth, predicted)
    cells = Counter((truth[item], predicted[item]) for item in truth)
    return PairScores(
        true_positive=sum(_pairs(n) for n in cells.values()),
        predicted=sum(_pairs(n) for n in Counter(predicted.values()).values()),
        actual=sum(_pairs(n) for n in Counter(truth.values()).values()),
    )


def bcubed(truth: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float]:
    """(precision, recall, F1), averaged over items."""
    _check(truth, predicted)
    if not truth:
        return (1.0, 1.0, 1.0)
    cells = Counter((truth[item], predicted[item]) for item in truth)
    true_sizes = Counter(truth.values())
    predicted_sizes = Counter(predicted.values())
    precision = sum(cells[(truth[i], predicted[i])] / predicted_sizes[predicted[i]] for i in truth) / len(truth)
    recall = sum(cells[(truth[i], predicted[i])] / true_sizes[truth[i]] for i in truth) / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return (precision, recall, f1)


def adjusted_rand(truth: Mapping[str, str], predicted: Mapping[str, str]) -> float:
    _check(truth, predicted)
    n = len(truth)
    index = sum(_pairs(c) for c in Counter((truth[i], predicted[i]) for i in truth).values())
    rows = sum(_pairs(c) for c in Counter(truth.values()).values())
    columns = sum(_pairs(c) for c in Counter(predicted.values()).values())
    total = _pairs(n)
    if total == 0:
        return 1.0
    expected = rows * columns / total
    maximum = (rows + columns) / 2
    # Both partitions all singletons, or both one cluster: identical, and the formula is 0/0.
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def labels_of(clusters: list[set[str]], items: list[str]) -> dict[str, str]:
    """item → cluster label for `items`; an item in no cluster is its own."""
    label = {}
    for number, cluster in enumerate(clusters):
        for item in cluster:
            label[item] = f"c{number}"
    return {item: label.get(item, f"alone:{item}") for item in items}
