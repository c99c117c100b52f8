"""Preferences between the trained ones: checks, the nearest one, and the convex weights that
reproduce a preference, for two, three and four objectives (least spread: hand-checked cases
and a property against a brute force)."""

import itertools

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from paretohqd.config import preference_id
from paretohqd.serving.interpolation import (
    PreferenceError,
    check_preference,
    interpolation_weights,
    merge_plan,
    nearest,
    parse_preference,
    realised,
)
from workflow_runner import ROOT

TWO = ["harmless", "helpful"]
SEGMENT = {"p000_100": [0.0, 1.0], "p025_075": [0.25, 0.75], "p050_050": [0.5, 0.5],
           "p075_025": [0.75, 0.25], "p100_000": [1.0, 0.0]}


def test_parse_preference_accepts_a_simplex_point():
    assert parse_preference("0.3,0.7", TWO) == (0.3, 0.7)
    assert parse_preference("1, 0", TWO) == (1.0, 0.0)


@pytest.mark.parametrize("text, message", [
    ("0.5,0.6", "preference 0.5,0.6: entries sum to 1.1"),
    ("0.2,0.3,0.5", "preference 0.2,0.3,0.5: has 3 entries but there are 2 objectives"),
    ("-0.5,1.5", "preference -0.5,1.5: entries must be finite and >= 0"),
    ("a,b", "preference 'a,b': not comma-separated numbers"),
])
def test_bad_preferences_name_the_value(text, message):
    with pytest.raises(PreferenceError, match=message):
        parse_preference(text, TWO)


def test_check_preference_allows_rounding_within_tolerance():
    assert check_preference([1 / 3, 1 / 3, 1 / 3], ["a", "b", "c"]) == (1 / 3, 1 / 3, 1 / 3)


def test_nearest_is_euclidean():
    assert nearest((0.3, 0.7), SEGMENT) == "p025_075"
    assert nearest((0.3, 0.7), {"p000_100": [0, 1], "p100_000": [1, 0]}) == "p000_100"


def test_two_objectives_bracketing_neighbours_weighted_linearly():
    weights = interpolation_weights((0.6, 0.4), SEGMENT)
    assert [pid for pid, _ in weights] == ["p050_050", "p075_025"]  # nearest first
    assert [w for _, w in weights] == pytest.approx([0.6, 0.4], abs=1e-12)
    assert realised(weights, SEGMENT) == pytest.approx((0.6, 0.4), abs=1e-12)


def test_two_objectives_the_neighbours_not_merely_the_two_nearest():
    trained = {"p000_100": [0.0, 1.0], "p040_060": [0.4, 0.6], "p045_055": [0.45, 0.55]}
    weights = dict(interpolation_weights((0.3, 0.7), trained))
    assert weights == pytest.approx({"p040_060": 0.75, "p000_100": 0.25}, abs=1e-12)


def test_two_objectives_a_trained_preference_or_beyond_the_range_is_one_adapter():
    assert interpolation_weights((0.5, 0.5), SEGMENT) == [("p050_050", 1.0)]
    inner = {"p020_080": [0.2, 0.8], "p080_020": [0.8, 0.2]}
    assert interpolation_weights((0.1, 0.9), inner) == [("p020_080", 1.0)]
    assert interpolation_weights((1.0, 0.0), inner) == [("p080_020", 1.0)]


def paper_three_objectives() -> dict[str, list[float]]:
    """The paper's 13 three-objective trained preferences, by id."""
    return {preference_id(w): w for w in yaml.safe_load(
        (ROOT / "config/hh_rlhf_3obj.yaml").read_text())["preferences"]}


THREE = {"p100_000_000": [1.0, 0.0, 0.0], "p000_100_000": [0.0, 1.0, 0.0],
         "p000_000_100": [0.0, 0.0, 1.0], "p033_033_033": [1 / 3, 1 / 3, 1 / 3]}


def test_three_objectives_the_enclosing_triangle_inside_the_hull():
    weights = interpolation_weights((0.5, 0.3, 0.2), THREE)
    # in the triangle (centre, e1, e2): 0.6 * centre + 0.3 * e1 + 0.1 * e2
    assert dict(weights) == pytest.approx(
        {"p033_033_033": 0.6, "p100_000_000": 0.3, "p000_100_000": 0.1}, abs=1e-9)
    assert [pid for pid, _ in weights] == ["p033_033_033", "p100_000_000", "p000_100_000"]
    assert realised(weights, THREE) == pytest.approx((0.5, 0.3, 0.2), abs=1e-9)


def test_three_objectives_outside_the_hull_the_nearest_point_of_the_hull():
    edges = {"p050_050_000": [0.5, 0.5, 0.0], "p050_000_050": [0.5, 0.0, 0.5],
             "p000_050_050": [0.0, 0.5, 0.5]}
    weights = interpolation_weights((0.8, 0.1, 0.1), edges)
    values = [w for _, w in weights]
    assert all(w > 0 for w in values) and sum(values) == pytest.approx(1.0, abs=1e-12)
    # by symmetry: the two edges with the first objective, equally
    assert dict(weights) == pytest.approx({"p050_050_000": 0.5, "p050_000_050": 0.5},
                                          abs=1e-9)


def test_three_objectives_exact_with_at_most_three_adapters_inside_the_hull():
    """The paper's 13 three-objective preferences include the corners, so every point of the
    simplex is in their hull: on a grid of step 0.05, the merge stands for the asked point
    exactly, with at most three adapters."""
    trained = paper_three_objectives()
    assert len(trained) == 13
    steps = 20
    for i in range(steps + 1):
        for j in range(steps + 1 - i):
            target = (i / steps, j / steps, (steps - i - j) / steps)
            weights = interpolation_weights(target, trained)
            values = [w for _, w in weights]
            assert 1 <= len(weights) <= 3 and all(w > 0 for w in values), (target, weights)
            assert sum(values) == pytest.approx(1.0, abs=1e-12)
            assert realised(weights, trained) == pytest.approx(target, abs=1e-9), target
    # the nearest three alone do not contain (0.5, 0.5, 0): (0.4, 0.4, 0.2), (0.6, 0.2, 0.2)
    # and (0.2, 0.6, 0.2) all have a third entry of 0.2
    weights = interpolation_weights((0.5, 0.5, 0.0), trained)
    assert realised(weights, trained) == pytest.approx((0.5, 0.5, 0.0), abs=1e-9)


def test_three_objectives_outside_a_lower_dimensional_hull_the_nearest_point_of_it():
    edge = {"pa": [1.0, 0.0, 0.0], "pb": [0.0, 1.0, 0.0]}
    # the segment's point nearest (0.5, 0.25, 0.25): (l, 1 - l, 0) with l = 5/8 (by hand)
    assert dict(interpolation_weights((0.5, 0.25, 0.25), edge)) == pytest.approx(
        {"pa": 5 / 8, "pb": 3 / 8}, abs=1e-9)
    weights = interpolation_weights((0.3, 0.7, 0.0), edge)  # on the segment: exact
    assert [pid for pid, _ in weights] == ["pb", "pa"]  # nearest first
    assert dict(weights) == pytest.approx({"pb": 0.7, "pa": 0.3}, abs=1e-9)


def test_merge_plan_places_each_merge_at_the_preference_it_stands_for():
    edges = {"p050_050_000": [0.5, 0.5, 0.0], "p050_000_050": [0.5, 0.0, 0.5],
             "p000_050_050": [0.0, 0.5, 0.5]}
    plan = merge_plan({"inside": [1 / 3, 1 / 3, 1 / 3], "outside": [0.8, 0.1, 0.1]}, edges)
    merge, stands_for = plan["inside"]
    assert dict(merge) == pytest.approx({pid: 1 / 3 for pid in edges}, abs=1e-9)
    assert stands_for == pytest.approx((1 / 3, 1 / 3, 1 / 3), abs=1e-9)
    merge, stands_for = plan["outside"]  # the hull's nearest point, not the asked one
    assert dict(merge) == pytest.approx({"p050_050_000": 0.5, "p050_000_050": 0.5}, abs=1e-9)
    assert stands_for == (0.5, 0.25, 0.25)


def spread(weights: list[tuple[str, float]], trained: dict, target) -> float:
    """sum_j lambda_j ||p_j - target||^2: how far the mixed trained preferences lie."""
    return sum(w * float(np.sum((np.asarray(trained[pid]) - target) ** 2)) for pid, w in weights)


def test_three_objectives_the_least_spread_mix_not_a_chart_triangle():
    """The audit's case: a triangulation of the first two entries mixed (0.768, 0.179, 0.053)
    from (0.8, 0.1, 0.1), (1, 0, 0) and (0, 1, 0); (0.1, 0.8, 0.1) for (0, 1, 0) is exact too,
    and its mix lies nearer the asked preference."""
    trained = paper_three_objectives()
    target = (0.768, 0.179, 0.053)
    weights = interpolation_weights(target, trained)
    # by hand: 0.35 (0.8, 0.1, 0.1) + 0.47 (1, 0, 0) + 0.18 (0.1, 0.8, 0.1)
    assert dict(weights) == pytest.approx(
        {"p080_010_010": 0.35, "p100_000_000": 0.47, "p010_080_010": 0.18}, abs=1e-9)
    assert realised(weights, trained) == pytest.approx(target, abs=1e-9)
    # the chart's triangle, its weights by hand from the third, second and first entries
    corner = [("p080_010_010", 0.53), ("p100_000_000", 0.344), ("p000_100_000", 0.126)]
    assert realised(corner, trained) == pytest.approx(target, abs=1e-9)
    assert spread(weights, trained, target) < spread(corner, trained, target)


def test_ties_do_not_depend_on_the_order_of_the_trained_preferences():
    # a rectangle in the simplex: at its centre both diagonals (and any mix of them) are
    # exact with the same spread
    rectangle = {"pa": [0.6, 0.4, 0.0], "pb": [0.4, 0.6, 0.0], "pc": [0.5, 0.3, 0.2],
                 "pd": [0.3, 0.5, 0.2]}
    centre = (0.45, 0.45, 0.1)
    chosen = interpolation_weights(centre, rectangle)
    for order in itertools.permutations(rectangle):
        assert interpolation_weights(centre, {pid: rectangle[pid] for pid in order}) == chosen
    assert realised(chosen, rectangle) == pytest.approx(centre, abs=1e-9)


def simplex_grid(objectives: int, steps: int) -> dict[str, list[float]]:
    """Every preference over ``objectives`` with entries in multiples of 1 / ``steps``."""
    return {preference_id(w): w for w in (
        [k / steps for k in counts] for counts in itertools.product(
            range(steps + 1), repeat=objectives) if sum(counts) == steps)}


def least_spread_by_brute_force(target: np.ndarray, trained: dict) -> float:
    """The least spread of the exact convex combinations of at most M trained preferences:
    an optimal vertex of the linear programme (M independent equalities) has no more."""
    points = np.asarray(list(trained.values()), dtype=float)
    wanted = np.append(target, 1.0)
    best = np.inf
    for size in range(1, len(target) + 1):
        subsets = points[np.array(list(itertools.combinations(range(len(points)), size)))]
        systems = np.concatenate([subsets.transpose(0, 2, 1), np.ones((len(subsets), 1, size))],
                                 axis=1)
        weights = np.linalg.pinv(systems) @ wanted
        residual = np.abs(np.einsum("nij,nj->ni", systems, weights) - wanted).max(axis=1)
        exact = (residual < 1e-9) & (weights >= -1e-12).all(axis=1)
        spreads = (weights * ((subsets - target) ** 2).sum(axis=2)).sum(axis=1)
        best = min(best, spreads[exact].min(initial=np.inf))
    return best


GRIDS = {3: paper_three_objectives(), 4: simplex_grid(4, 3)}


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([3, 4]).flatmap(
    lambda m: st.lists(st.integers(0, 30), min_size=m, max_size=m).filter(any)))
def test_inside_the_hull_exact_and_no_mix_spreads_less(counts):
    """On the paper's three-objective preferences and a four-objective grid (both with the
    corners, so the whole simplex is inside): the weights are convex, reproduce the asked
    preference to 1e-9, and no exact mix of at most M trained preferences spreads less; a
    trained preference (to the config's tolerance, as (1/3, 1/3, 1/3)) is served alone."""
    trained = GRIDS[len(counts)]
    target = np.asarray(counts, dtype=float) / sum(counts)
    weights = interpolation_weights(target, trained)
    hits = [pid for pid, p in trained.items() if np.allclose(p, target, rtol=0.0, atol=1e-6)]
    if hits:
        assert weights == [(hits[0], 1.0)]
        return
    values = [w for _, w in weights]
    assert 1 <= len(weights) <= len(counts) and all(w > 0 for w in values)
    assert sum(values) == pytest.approx(1.0, abs=1e-12)
    assert realised(weights, trained) == pytest.approx(tuple(target), abs=1e-9)
    assert spread(weights, trained, target) <= least_spread_by_brute_force(target, trained) + 1e-9


def test_outside_the_hull_the_least_spread_mix_for_its_nearest_point():
    # the nearest point of the hull to (0.8, 0.15, 0.05) is (0.5, 0.3, 0.2) on the edge
    # x1 = 0.5 (by hand), which holds three trained preferences: the two either side of it
    edges = {"p050_050_000": [0.5, 0.5, 0.0], "p050_000_050": [0.5, 0.0, 0.5],
             "p000_050_050": [0.0, 0.5, 0.5], "p050_040_010": [0.5, 0.4, 0.1]}
    weights = interpolation_weights((0.8, 0.15, 0.05), edges)
    assert dict(weights) == pytest.approx({"p050_040_010": 0.75, "p050_000_050": 0.25},
                                          abs=1e-9)
    assert realised(weights, edges) == pytest.approx((0.5, 0.3, 0.2), abs=1e-9)
