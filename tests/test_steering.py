import numpy as np
import pytest

from paretohqd.evaluation.steering import ray_angles, reward_ranges


def test_angle_to_the_ray_on_hand_made_points():
    """Preference (1, 0) points from the ideal (1, 1) straight down, along (0, -1): a model at
    (1, 0.3) is on that ray (0 degrees), one at (0.5, 0.5) halfway to the other axis (45), one
    at (0.3, 1) on the other objective's ray (90). Preference (0.5, 0.5) points along (-1, -1)
    (45 degrees below the horizontal); a model at (0.2, 0.8) lies along (-0.8, -0.2), at
    atan(0.25) = 14.04 degrees below it: 30.96 degrees apart."""
    w = np.array([[1.0, 0.0]] * 3 + [[0.5, 0.5]])
    points = np.array([[1.0, 0.3], [0.5, 0.5], [0.3, 1.0], [0.2, 0.8]])
    expected = [0.0, 45.0, 90.0, 45.0 - np.degrees(np.arctan(0.25))]
    assert ray_angles(points, w) == pytest.approx(expected, abs=1e-9)


def test_angle_in_three_objectives_and_degenerate_points():
    """(1/3, 1/3, 1/3) points along (-1, -1, -1): the diagonal point (0.5, 0.5, 0.5) is on it;
    (0, 1, 1) lies along (-1, 0, 0), at arccos(1 / sqrt 3) = 54.74 degrees; a model at the
    ideal point has no direction (NaN). Resampled points (a leading axis) broadcast."""
    w = np.full((3, 3), 1 / 3)
    points = np.array([[0.5, 0.5, 0.5], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    angles = ray_angles(points, w)
    assert angles[:2] == pytest.approx([0.0, np.degrees(np.arccos(1 / np.sqrt(3)))], abs=1e-6)
    assert np.isnan(angles[2])
    stacked = np.stack([points, points[::-1]])
    assert ray_angles(stacked, w).shape == (2, 3)


def test_reward_ranges_per_objective():
    points = np.array([[0.1, 0.9], [0.5, 0.4], [0.7, 0.6]])
    assert reward_ranges(points) == pytest.approx([0.6, 0.5])
    np.testing.assert_allclose(reward_ranges(np.stack([points, points * 2])),
                               [[0.6, 0.5], [1.2, 1.0]])
