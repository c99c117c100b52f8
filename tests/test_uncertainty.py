"""The paired bootstrap against cases small enough to check by hand."""

import numpy as np
import pytest

from paretohqd.evaluation.uncertainty import (
    bootstrap_means,
    check_aligned,
    hypervolume_samples,
    percentile_interval,
    spearman_samples,
    summarise,
)


def test_two_prompt_bootstrap_matches_the_exact_distribution():
    """Prompts scoring 0 and 1: a resample's mean is 0, 0.5 or 1 with probability 1/4, 1/2,
    1/4, so the 95% interval is [0, 1] and the standard error sqrt(1/8)."""
    scores = {("m", "p"): np.array([[[0.0], [1.0]]])}  # 1 seed, 2 prompts, 1 objective
    means = bootstrap_means(scores, n_resamples=20000, seed=0).means[("m", "p")][:, 0]
    assert set(np.unique(means)) == {0.0, 0.5, 1.0}
    assert np.mean(means == 0.5) == pytest.approx(0.5, abs=0.02)
    assert percentile_interval(means) == (0.0, 1.0)
    assert summarise(0.5, means)["se"] == pytest.approx(np.sqrt(1 / 8), abs=0.01)


@pytest.mark.parametrize("level,interval", [(0.95, (0.0, 1.0)), (0.4, (0.5, 0.5))])
def test_interval_level_on_the_exact_distribution(level, interval):
    """The two-prompt case again (means 0, 0.5, 1 with probability 1/4, 1/2, 1/4): the 95%
    interval (2.5th, 97.5th percentiles) spans [0, 1]; the 40% one (30th, 70th) lies inside the
    middle half, at 0.5. summarise reports the same interval at that level."""
    scores = {("m", "p"): np.array([[[0.0], [1.0]]])}
    means = bootstrap_means(scores, n_resamples=20000, seed=0).means[("m", "p")][:, 0]
    assert percentile_interval(means, level) == interval
    summary = summarise(0.5, means, level)
    assert (summary["ci_low"], summary["ci_high"]) == interval


def test_the_draw_is_seeded():
    """The same seed redraws the same resamples; another seed draws others."""
    scores = {("m", "p"): np.random.default_rng(0).normal(size=(2, 10, 2))}
    first, again = bootstrap_means(scores, 50, seed=4), bootstrap_means(scores, 50, seed=4)
    other = bootstrap_means(scores, 50, seed=5)
    np.testing.assert_array_equal(first.means[("m", "p")], again.means[("m", "p")])
    assert not np.allclose(first.means[("m", "p")], other.means[("m", "p")])


def test_the_draw_is_paired_across_points():
    """Two models with the same per-prompt rewards differ by exactly 0 in every resample, and
    a model better by 0.1 on every prompt by exactly 0.1."""
    rng = np.random.default_rng(1)
    base = rng.normal(size=(2, 30, 2))
    scores = {("a", "p"): base, ("b", "p"): base.copy(), ("c", "p"): base + 0.1}
    means = bootstrap_means(scores, n_resamples=500, seed=3).means
    np.testing.assert_array_equal(means[("a", "p")], means[("b", "p")])
    np.testing.assert_allclose(means[("c", "p")] - means[("a", "p")], 0.1)


def test_seeds_are_resampled_too():
    """Two seeds whose prompts all score 0 and 1: resampling seeds alone gives means 0, 0.5 and
    1; with one seed the mean never moves."""
    two_seeds = {("m", "p"): np.array([[[0.0]] * 5, [[1.0]] * 5])}
    means = bootstrap_means(two_seeds, 4000, seed=0).means[("m", "p")][:, 0]
    assert set(np.unique(means)) == {0.0, 0.5, 1.0}
    one_seed = {("m", "p"): np.full((1, 5, 1), 0.3)}
    np.testing.assert_allclose(bootstrap_means(one_seed, 100, seed=0).means[("m", "p")], 0.3)


def test_misaligned_points_are_named():
    with pytest.raises(ValueError, match=r"\('b', 'p'\).*same prompts"):
        check_aligned({("a", "p"): np.zeros((1, 4, 2)), ("b", "p"): np.zeros((1, 3, 2))})


def test_hypervolume_per_resample_uses_each_methods_points():
    points = [("a", "p1"), ("a", "p2"), ("b", "p1")]
    scores = {("a", "p1"): np.full((1, 3, 2), [1.0, 0.0]),
              ("a", "p2"): np.full((1, 3, 2), [0.0, 1.0]),
              ("b", "p1"): np.full((1, 3, 2), [0.5, 0.5])}
    resamples = bootstrap_means(scores, 10, seed=0)
    counts = hypervolume_samples(resamples, points, lambda pts: float(len(pts)))
    assert counts["a"].tolist() == [2.0] * 10 and counts["b"].tolist() == [1.0] * 10


def test_spearman_orders_preferences():
    weights = np.array([0.0, 0.5, 1.0])
    means = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, 0.2, 0.2], [0.1, 0.3, 0.2]])
    rho = spearman_samples(weights, means)
    np.testing.assert_allclose(rho[:2], [1.0, -1.0])
    assert np.isnan(rho[2])
    assert rho[3] == pytest.approx(0.5)
