import numpy as np
import pytest

from paretohqd.evaluation.seeds import across_seeds, per_seed_hypervolumes

# Student's t quantiles (scipy.stats.t.ppf(0.975, df)), written out so the test checks them
T_975 = {1: 12.706204736174698, 2: 4.302652729911275}


def test_across_seeds_by_hand():
    """Hypervolumes 0.5, 0.6 and 0.7 over three seeds: mean 0.6, sd 0.1; the 95% t interval of
    the mean is 0.6 +- t(2) 0.1 / sqrt 3, and where a fourth seed would land 0.6 +- t(2) 0.1
    sqrt(1 + 1/3)."""
    got = across_seeds([0.5, 0.6, 0.7], 0.95)
    half, re_run = T_975[2] * 0.1 / np.sqrt(3), T_975[2] * 0.1 * np.sqrt(4 / 3)
    assert got == pytest.approx({"mean": 0.6, "sd": 0.1, "n_seeds": 3,
                                 "ci_low": 0.6 - half, "ci_high": 0.6 + half,
                                 "re_run_low": 0.6 - re_run, "re_run_high": 0.6 + re_run})
    assert got["ci_high"] - got["ci_low"] == pytest.approx(0.49683, abs=1e-5)


def test_one_seed_has_no_spread():
    got = across_seeds([0.4], 0.95)
    assert got["mean"] == 0.4 and got["n_seeds"] == 1
    assert all(np.isnan(got[key]) for key in ("sd", "ci_low", "ci_high", "re_run_low"))


def test_per_seed_hypervolume_is_each_seeds_own_front():
    """Method m, two preferences, two seeds, two prompts each. Seed 0: points (0.2, 0.8) and
    (0.8, 0.2) (prompt means), hypervolume 0.16 + 0.16 - 0.04 = 0.28; seed 1: (0.5, 0.5) twice,
    0.25. The hypervolume is the identity frame's, reference (0, 0)."""
    from paretohqd.evaluation.metrics import hypervolume

    per_prompt = {("m", "p1"): np.array([[[0.1, 0.7], [0.3, 0.9]], [[0.5, 0.5], [0.5, 0.5]]]),
                  ("m", "p2"): np.array([[[0.8, 0.1], [0.8, 0.3]], [[0.4, 0.6], [0.6, 0.4]]]),
                  ("base", "none"): np.full((2, 2, 2), 0.1)}
    got = per_seed_hypervolumes(per_prompt, lambda pts: hypervolume(pts, [0.0, 0.0]))
    assert got["m"] == pytest.approx([0.28, 0.25])
    assert got["base"] == pytest.approx([0.01, 0.01])
