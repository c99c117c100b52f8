"""IGD+ against the union front and the spanning-tree spacing, on fronts small enough to check by
hand, and their intervals from the summary's resamples."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from paretohqd.evaluation.coverage import (coverage, igd_plus_by_method, spacing, tree_edges,
                                           union_front)
from paretohqd.evaluation.metrics import coverage_metrics
from paretohqd.evaluation.uncertainty import Resamples, percentile_interval


def _line(xs) -> np.ndarray:
    """Points on the linear front x + y = 1."""
    return np.array([[x, 1.0 - x] for x in xs])


def test_a_method_whose_points_are_the_union_front_has_igd_plus_zero():
    """Ends and middle of x + y = 1: the method holding all three is the union front (IGD+ 0);
    the one with the two ends misses the middle (0.5, 0.5) by 0.5 on one objective, the mean
    over the three reference points 0.5 / 3."""
    even, ends = _line([0.0, 0.5, 1.0]), _line([0.0, 1.0])
    assert union_front(np.concatenate([even, ends])).tolist() == even.tolist()
    igd = igd_plus_by_method({"even": even, "ends": ends})
    assert igd["even"] == 0.0
    assert igd["ends"] == pytest.approx(0.5 / 3)


def test_a_dominated_method_has_the_larger_igd_plus():
    """Rewards are maximised: (0.8, 0.8) dominates (0.6, 0.6), so the union front is the first
    point alone and the second lies sqrt(0.2^2 + 0.2^2) from it (minimising would swap them)."""
    igd = igd_plus_by_method({"ahead": np.array([[0.8, 0.8]]),
                              "behind": np.array([[0.6, 0.6]])})
    assert igd["ahead"] == 0.0
    assert igd["behind"] == pytest.approx(math.sqrt(0.08))


def test_clusters_have_a_larger_spacing_than_an_even_spread_on_the_same_line():
    """Six points evenly on x + y = 1: five tree edges of L1 length 0.4, spacing 0. Two clusters
    of three at the ends: edges 0.04, 0.04, 1.84, 0.04, 0.04 (mean 0.4), spacing
    sqrt((4 * 0.36^2 + 1.44^2) / 5) = 0.72. Schott's spacing would rate both 0: every
    nearest-neighbour distance is 0.4 in the even set and 0.04 in the clustered one."""
    even, clustered = _line(np.linspace(0.0, 1.0, 6)), _line([0, 0.02, 0.04, 0.96, 0.98, 1.0])
    assert sorted(tree_edges(even)) == pytest.approx([0.4] * 5)
    assert sorted(tree_edges(clustered)) == pytest.approx([0.04] * 4 + [1.84])
    assert spacing(even) == pytest.approx(0.0, abs=1e-12)
    assert spacing(clustered) == pytest.approx(0.72)


def test_spacing_of_one_point_is_undefined_and_of_two_is_zero():
    assert np.isnan(spacing(np.array([[0.3, 0.4]])))
    assert spacing(np.array([[0.3, 0.4], [0.9, 0.1]])) == 0.0


def test_tree_edges_are_a_minimum_spanning_tree_in_every_draw():
    """Prim's edges match scipy's minimum spanning tree under L1 distance, draw by draw."""
    points = np.random.default_rng(0).random((4, 7, 3))
    edges = tree_edges(points)
    assert edges.shape == (4, 6)
    for draw, found in zip(points, edges):
        expected = minimum_spanning_tree(cdist(draw, draw, "cityblock")).data
        assert sorted(found) == pytest.approx(sorted(expected))
    assert spacing(points) == pytest.approx([np.std(e) for e in edges])


def test_every_draw_has_its_own_union_front():
    """Draw 0: a dominates b, draw 1: b dominates a; each draw's front is the one ahead."""
    stacked = {"a": np.array([[[0.8, 0.8]], [[0.5, 0.5]]]),
               "b": np.array([[[0.6, 0.6]], [[0.7, 0.7]]])}
    measures = coverage(stacked)
    assert measures["a"]["igd_plus"] == pytest.approx([0.0, math.sqrt(0.08)])
    assert measures["b"]["igd_plus"] == pytest.approx([math.sqrt(0.08), 0.0])
    assert np.isnan(measures["a"]["spacing"]).all()


def test_coverage_intervals_come_from_the_resamples_and_bracket_the_estimate():
    """Frame [0, 1] on both objectives. a: (0, 1), (0.1, 0.9), (1, 0) in every resample; b:
    (0.5 + s, 0.5 + s) with s = -0.1, 0, 0.1, 0.2 in the four resamples, 0 in the estimate.
    The union front is all four points; IGD+(a) = (0.4 + s) / 4 (b's point is 0.4 + s above
    (0.1, 0.9) on x), IGD+(b) = ((0.5 - s) + (0.4 - s) + (0.5 - s)) / 4; a's tree edges are 0.2
    and 1.8 (spacing 0.8) in every resample; b has one point (spacing undefined)."""
    shifts = np.array([-0.1, 0.0, 0.1, 0.2])
    a_points = {"p1": [0.0, 1.0], "p2": [0.1, 0.9], "p3": [1.0, 0.0]}
    means = {("a", p): np.tile(v, (4, 1)) for p, v in a_points.items()}
    means[("b", "none")] = 0.5 + np.repeat(shifts[:, None], 2, axis=1)
    resamples = Resamples(means, n_seeds=1, n_prompts=1)
    rows = [("a", p, v) for p, v in a_points.items()] + [("b", "none", [0.5, 0.5])]
    front = pd.DataFrame([{"method": m, "pref_id": p, "x": v[0], "y": v[1]} for m, p, v in rows])
    measures = coverage_metrics(front, resamples, ["x", "y"], [0.0, 0.0], [1.0, 1.0], 0.95)
    expected = {"a": (0.4 / 4, (0.4 + shifts) / 4), "b": (1.4 / 4, (1.4 - 3 * shifts) / 4)}
    for method, (estimate, samples) in expected.items():
        igd = measures[method]["igd_plus"]
        assert igd["estimate"] == pytest.approx(estimate)
        assert [igd["ci_low"], igd["ci_high"]] == pytest.approx(percentile_interval(samples))
        assert igd["ci_low"] <= igd["estimate"] <= igd["ci_high"]
    a_spacing = measures["a"]["spacing"]
    assert [a_spacing["estimate"], a_spacing["ci_low"], a_spacing["ci_high"]] == pytest.approx(
        [0.8] * 3)
    assert np.isnan(measures["b"]["spacing"]["estimate"])
