"""Preferences between the trained ones: checks, the nearest one, and the convex weights that
reproduce a preference, for two and three objectives."""

import pytest
import yaml

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
    exactly, with at most three adapters, each a vertex of the Delaunay triangle around it."""
    trained = {preference_id(w): w for w in yaml.safe_load(
        (ROOT / "config/hh_rlhf_3obj.yaml").read_text())["preferences"]}
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
