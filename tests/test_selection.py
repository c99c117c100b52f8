"""Selection geometry: hand-checkable 2-D/3-D cases and properties (hypothesis)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from paretohqd import selection
from paretohqd.selection import (
    direction_distances,
    frame_of,
    layers_for,
    normalise,
    pareto_layers,
    representatives,
    select,
    select_rows,
    table_frame,
)

IDS = [f"r{i:02d}" for i in range(20)]


def test_normalise_minmax_and_zscore():
    points = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    np.testing.assert_allclose(normalise(points, "minmax"), [[0, 0], [0.5, 1], [1, 0.5]])
    z = normalise(points, "zscore")
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1)
    np.testing.assert_allclose(normalise(np.ones((3, 2)), "minmax"), 0)


def test_pareto_layers_2d():
    points = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [0.1, 0.1], [0.4, 0.4]])
    np.testing.assert_array_equal(pareto_layers(points), [1, 1, 1, 2, 3, 2])


def test_layers_for_auto_and_fixed():
    layers = np.array([1, 1, 2, 2, 2, 3])
    assert layers_for(layers, 2, "auto") == 1
    assert layers_for(layers, 3, "auto") == 2
    assert layers_for(layers, 99, "auto") == 3
    assert layers_for(layers, 1, 2) == 2
    assert layers_for(layers, 2, "auto", pool_factor=2) == 2  # 4 points needed: layers 1-2
    assert layers_for(layers, 2, "auto", pool_factor=3) == 3  # 6 points: all layers


def test_direction_distance_by_hand_2d():
    low, high = np.zeros(2), np.ones(2)
    # w = (0.5, 0.5): the ray from (1, 1) towards (0.5, 0.5), i.e. the diagonal downwards.
    points = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 0.0], [2.0, 2.0], [1.5, 0.5]])
    d = direction_distances(points, [0.5, 0.5], low, high)
    # the last two lie beyond the ideal point: measured to the line, not to (1, 1)
    np.testing.assert_allclose(d, [0, np.sqrt(0.5), 0, 0, np.sqrt(0.5)], atol=1e-12)
    # w = (1, 0): the ray from (1, 1) straight down the line x = 1.
    d = direction_distances(np.array([[1.0, 0.2], [0.7, 0.9]]), [1.0, 0.0], low, high)
    np.testing.assert_allclose(d, [0.0, 0.3], atol=1e-12)


def test_direction_distance_by_hand_3d():
    low, high = np.zeros(3), np.ones(3)
    d = direction_distances(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), [0, 0, 1], low, high)
    # the ray from (1,1,1) towards (0,0,1) lies in the plane z = 1
    np.testing.assert_allclose(d, [1.0, np.sqrt(0.5)], atol=1e-12)


def test_a_point_beyond_the_ideal_ranks_ahead_of_what_it_dominates():
    """The audit's case: in a frame from other data (stage 2 in the offline frame), (1.2, 1.2)
    lies on w = (0.5, 0.5)'s line beyond the ideal point and dominates (0.9, 0.9)."""
    points = np.array([[0.9, 0.9], [1.2, 1.2], [0.2, 0.95]])
    frame = {"min": [0.0, 0.0], "max": [1.0, 1.0], "mean": [0.5, 0.5], "std": [0.3, 0.3]}
    order = select(points, ["a", "b", "c"], [0.5, 0.5], k=3, frame=frame, pool_factor=3)
    assert order.tolist() == [1, 0, 2]


def _line_distance(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Distance to the line through (1, ..., 1) and w, the preference line of the unit frame."""
    unit = (weights - 1) / np.linalg.norm(weights - 1)
    offset = points - 1
    return np.linalg.norm(offset - np.outer(offset @ unit, unit), axis=1)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 3).flatmap(lambda m: st.tuples(
    arrays(np.int64, st.tuples(st.integers(2, 14), st.just(m)), elements=st.integers(0, 14)),
    arrays(np.int64, (m,), elements=st.integers(0, 10)).filter(lambda w: w.sum() > 0))))
def test_a_dominating_point_no_farther_from_the_line_never_ranks_below(case):
    """Within the pool, in a frame the points overshoot by up to 1.4x (stage 2's offline
    frame): a point that dominates another and is no farther from the preference line is never
    ranked after it."""
    grid, raw_weights = case
    points = grid / 10.0
    weights = raw_weights / raw_weights.sum()
    m = points.shape[1]
    frame = {"min": [0.0] * m, "max": [1.0] * m, "mean": [0.5] * m, "std": [0.3] * m}
    ids = [f"r{i:02d}" for i in range(len(points))]
    order = select(points, ids, weights, k=len(points), frame=frame,
                   pool_factor=len(points))
    rank = np.empty(len(points), dtype=int)
    rank[order] = np.arange(len(points))
    distance = np.round(_line_distance(points, weights), 9)
    for a in range(len(points)):
        for b in range(len(points)):
            dominates = np.all(points[a] >= points[b]) and np.any(points[a] > points[b])
            if dominates and distance[a] <= distance[b]:
                assert rank[a] < rank[b], (points[a], points[b], weights)


def test_extreme_preference_picks_top_of_objective():
    rng = np.random.default_rng(0)
    points = rng.random((20, 2))
    chosen = select(points, IDS, [1.0, 0.0], k=3, n_layers="auto")
    front = np.nonzero(pareto_layers(points) == 1)[0]
    best = front[np.argmax(points[front, 0])]
    assert best in chosen
    assert points[chosen, 0].mean() > np.median(points[:, 0])


def test_direction_reaches_a_non_convex_front_where_linear_does_not():
    # a concave (non-convex) front: the balanced point sits below the chord between extremes
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.45, 0.45], [0.9, 0.05], [0.05, 0.9]])
    ids = ["a", "b", "c", "d", "e"]
    assert ids[select(points, ids, [0.5, 0.5], k=1)[0]] == "c"
    assert ids[select(points, ids, [0.5, 0.5], k=1, mode="linear")[0]] != "c"


def test_ties_broken_by_row_id():
    points = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    ids = ["z", "m", "a", "x", "y"]
    assert [ids[i] for i in select(points, ids, [0.5, 0.5], k=2)] == ["a", "m"]
    assert [ids[i] for i in select(points, ids, [0.5, 0.5], k=2, mode="linear")] == ["a", "m"]


def test_k_larger_than_pool_warns_and_takes_all():
    points = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.warns(UserWarning, match="^k=5 exceeds the candidate pool of 2 points; "
                                         "selecting all 2$"):
        assert len(select(points, ["a", "b"], [0.5, 0.5], k=5, n_layers=1)) == 2
    with pytest.raises(ValueError, match="^k must be >= 1, got 0$"):
        select(points, ["a", "b"], [0.5, 0.5], k=0)


# Rewards on a quarter grid: rescaling can then not lose a difference to float absorption
# (1e-32 + 10 == 10), which would make a varying objective constant.
reward_arrays = arrays(np.float64, st.tuples(st.integers(4, 30), st.integers(2, 3)),
                       elements=st.integers(-20, 20).map(lambda v: v / 4))


@st.composite
def weights_for(draw, m):
    raw = np.array(draw(st.lists(st.integers(0, 10), min_size=m, max_size=m)), dtype=float)
    if raw.sum() == 0:
        raw[0] = 1
    return raw / raw.sum()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), points=reward_arrays)
def test_selection_invariant_to_rescaling_under_minmax(data, points):
    w = data.draw(weights_for(points.shape[1]))
    k = data.draw(st.integers(1, len(points)))
    ids = [f"r{i:03d}" for i in range(len(points))]
    scale = data.draw(st.floats(0.1, 100))
    shift = data.draw(st.floats(-10, 10))
    rescaled = points.copy()
    rescaled[:, 0] = rescaled[:, 0] * scale + shift
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = select(points, ids, w, k, n_layers="auto")
        b = select(rescaled, ids, w, k, n_layers="auto")
    assert sorted(a) == sorted(b)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), points=reward_arrays)
def test_selection_deterministic_unique_and_from_the_pool(data, points):
    w = data.draw(weights_for(points.shape[1]))
    ids = [f"r{i:03d}" for i in range(len(points))]
    k = data.draw(st.integers(1, len(points)))
    n_layers = data.draw(st.sampled_from(["auto", 1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = select(points, ids, w, k, n_layers=n_layers)
        again = select(points[::-1].copy(), ids[::-1], w, k, n_layers=n_layers)
    assert len(set(first)) == len(first) <= k
    assert sorted(ids[i] for i in first) == sorted(ids[::-1][i] for i in again)
    layers = pareto_layers(normalise(points, "minmax"))
    assert layers[first].max() <= layers_for(layers, k, n_layers)


def test_select_rows_reports_layer_and_rank():
    table = pd.DataFrame({"row_id": ["a", "b", "c", "d"], "x": [1.0, 0.0, 0.5, 0.2],
                          "y": [0.0, 1.0, 0.5, 0.2]})
    rows = select_rows(table, ["x", "y"], [0.5, 0.5], k=2, n_layers=2)
    assert rows["row_id"].tolist() == ["c", "d"]
    assert rows["layer"].tolist() == [1, 2] and rows["rank"].tolist() == [0, 1]


def test_select_rows_sorts_into_layers_once(monkeypatch):
    calls = []
    monkeypatch.setattr(selection, "pareto_layers",
                        lambda points: calls.append(1) or pareto_layers(points))
    table = pd.DataFrame({"row_id": list("abcd"), "x": [1.0, 0.0, 0.5, 0.2],
                          "y": [0.0, 1.0, 0.5, 0.2]})
    selection.select_rows(table, ["x", "y"], [0.5, 0.5], k=2, n_layers=2)
    assert len(calls) == 1


def test_representatives_are_extremes_then_balanced():
    prefs = {"p000_100": [0, 1], "p025_075": [0.25, 0.75], "p050_050": [0.5, 0.5],
             "p100_000": [1, 0]}
    assert representatives(prefs, 2) == ["p100_000", "p000_100", "p050_050"]
    three = {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0.1, 0.1, 0.8], "d": [0.4, 0.3, 0.3]}
    assert representatives(three, 3) == ["a", "b", "c", "d"]
    assert representatives({"x": [0.5, 0.5]}, 2) == ["x"]


def test_linear_pool_ranks_by_w_dot_r_inside_the_pareto_pool_only():
    """(0.9, 0) is dominated by (1, 0): the all-rows ablation takes it second for w = (1, 0),
    the pool-restricted one takes the best w . r of the first layer instead."""
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.0], [0.5, 0.4]])
    ids = ["a", "b", "c", "d"]
    assert select(points, ids, [1.0, 0.0], 2, "linear_pool", 1).tolist() == [0, 3]
    assert select(points, ids, [1.0, 0.0], 2, "linear", 1).tolist() == [0, 2]
    with pytest.raises(ValueError, match=r"^unknown selection mode 'cosine'; expected one of "
                                         r"\('direction', 'linear', 'linear_pool'\)$"):
        select(points, ids, [1.0, 0.0], 2, "cosine", 1)


def test_offline_frame_keeps_the_meaning_of_a_preference():
    """A stage-2 pool whose answers all fall short on the second objective: in its own frame
    (0.5, 0.5) picks the middle of the pool; in the offline frame, where (1, 1) is the ideal,
    it picks the answer with equal shortfalls on both objectives."""
    pool = np.array([[0.2, 0.1], [0.5, 0.08], [0.8, 0.02], [0.95, 0.0]])
    ids = ["a", "b", "c", "d"]
    offline = {"min": [0.0, 0.0], "max": [1.0, 1.0], "mean": [0.5, 0.5], "std": [0.3, 0.3]}
    assert select(pool, ids, [0.5, 0.5], 1, "direction", 1).tolist() == [1]
    assert select(pool, ids, [0.5, 0.5], 1, "direction", 1, frame=offline).tolist() == [0]
    table = pd.DataFrame({"row_id": ids, "a": pool[:, 0], "b": pool[:, 1]})
    stats = {"a": {"min": 0.0, "max": 1.0, "mean": 0.5, "std": 0.3},
             "b": {"min": 0.0, "max": 1.0, "mean": 0.5, "std": 0.3}}
    rows = select_rows(table, ["a", "b"], [0.5, 0.5], 1, "direction", 1, frame=stats)
    assert rows["row_id"].tolist() == ["a"]


def test_frame_quantiles_replace_min_and_max():
    points = np.array([[float(i), 10.0 - i] for i in range(11)])
    frame = frame_of(points, 0.1)
    assert frame["min"].tolist() == [1.0, 1.0] and frame["max"].tolist() == [9.0, 9.0]
    assert frame["mean"].tolist() == [5.0, 5.0]
    assert frame_of(points)["max"].tolist() == [10.0, 10.0]
    with pytest.raises(ValueError, match=r"frame quantile must be in \[0, 0.5\)"):
        frame_of(points, 0.5)
    table = pd.DataFrame(points, columns=["a", "b"])
    assert table_frame(table, ["a", "b"], 0.1)["a"] == {"min": 1.0, "max": 9.0, "mean": 5.0,
                                                      "std": pytest.approx(points[:, 0].std())}


def test_one_outlier_no_longer_sets_the_ideal_point():
    """Ten rows in [0, 1] x [0, 1] and one at a = 100: with min and max the outlier is the
    corner (1, 0) of the frame, exactly on w = (1, 0)'s ray, and is chosen; with 10% / 90%
    quantiles it lies far outside the frame and the best in-range row is chosen instead."""
    rng = np.random.default_rng(0)
    points = np.vstack([rng.random((10, 2)), [[100.0, 0.0]]])
    ids = [f"r{i}" for i in range(11)]
    assert select(points, ids, [1.0, 0.0], 1).tolist() == [10]
    chosen = select(points, ids, [1.0, 0.0], 1, frame_quantile=0.1)
    assert chosen.tolist() != [10]
