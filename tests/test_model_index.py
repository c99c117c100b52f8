"""The model index: what the workflow writes, and how the CLI picks adapters from it."""

import pytest

from paretohqd.io import DataError, write_json
from paretohqd.serving.model_index import INDEX, Served, build_index

PREFS = {"p000_100": [0.0, 1.0], "p100_000": [1.0, 0.0]}


def index(base_model="results/models/base"):
    return build_index(
        base_model, "chat", ["harmless", "helpful"], [42, 7],
        {"paretohqd": ("results/paretohqd/seed{seed}/{pref}/stage2/adapter", PREFS),
         "mixed": ("results/mixed/seed{seed}/{pref}/adapter", {"p050_050": [0.5, 0.5]})})


def test_build_index_lists_every_seed_and_preference_relative_to_results():
    built = index()
    assert built["base_model"] == {"path": "models/base", "in_results": True}
    assert built["prompt_format"] == "chat" and built["objectives"] == ["harmless", "helpful"]
    assert built["seeds"] == [42, 7]
    assert built["methods"]["paretohqd"] == [
        {"seed": seed, "pref_id": pid, "weights": PREFS[pid],
         "adapter": f"paretohqd/seed{seed}/{pid}/stage2/adapter"}
        for seed in (42, 7) for pid in PREFS]
    assert [a["pref_id"] for a in built["methods"]["mixed"]] == ["p050_050"] * 2


def test_a_hub_base_model_is_kept_as_named():
    assert index("meta-llama/Llama-2-7b-hf")["base_model"] == {
        "path": "meta-llama/Llama-2-7b-hf", "in_results": False}


def test_an_adapter_outside_results_is_an_error():
    with pytest.raises(ValueError, match="adapter elsewhere/p000_100: not under results/"):
        build_index("base", "chat", ["a", "b"], [1], {"m": ("elsewhere/{pref}", PREFS)})


@pytest.fixture()
def served(tmp_path):
    write_json(index(), tmp_path / INDEX)
    return Served.load(tmp_path)


def test_served_paths_resolve_inside_the_results_folder(served, tmp_path):
    assert served.base_model == str(tmp_path / "models/base")
    seed, chosen = served.choose((0.3, 0.7), "paretohqd", None, interpolate=False)
    assert seed == 42  # the first seed by default
    assert chosen == [{"pref_id": "p000_100", "weights": [0.0, 1.0], "merge_weight": 1.0,
                       "path": str(tmp_path / "paretohqd/seed42/p000_100/stage2/adapter")}]


def test_served_interpolation_names_both_neighbours_for_the_asked_seed(served, tmp_path):
    seed, chosen = served.choose((0.3, 0.7), "paretohqd", 7, interpolate=True)
    assert seed == 7
    assert [a["pref_id"] for a in chosen] == ["p000_100", "p100_000"]
    assert [a["merge_weight"] for a in chosen] == pytest.approx([0.7, 0.3])
    assert chosen[1]["path"] == str(tmp_path / "paretohqd/seed7/p100_000/stage2/adapter")


def test_missing_index_unknown_method_or_seed_are_named(served, tmp_path):
    with pytest.raises(DataError, match="run the workflow first"):
        Served.load(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"method 'dpo': not in .*; it has \['mixed', "
                                        r"'paretohqd'\]"):
        served.choose((0.5, 0.5), "dpo", None, False)
    with pytest.raises(DataError, match=r"seed 3: not a training seed of this run; it has "
                                        r"\[42, 7\]"):
        served.choose((0.5, 0.5), "paretohqd", 3, False)


def test_a_method_without_adapters_for_the_seed_is_named(tmp_path):
    built = index()
    built["methods"]["paretohqd"] = []
    write_json(built, tmp_path / INDEX)
    with pytest.raises(DataError, match="'paretohqd' has no adapters for seed 42"):
        Served.load(tmp_path).choose((0.5, 0.5), "paretohqd", None, False)


def test_reward_models_are_indexed_relative_to_results_and_hub_names_kept(tmp_path):
    scorers = {"harmless": {"kind": "classifier", "model": "results/reward_models/harmless",
                            "logit_index": 0, "input_format": "pair"},
               "helpful": {"kind": "classifier", "model": "Ray2333/gpt2-large-helpful-reward_model",
                           "logit_index": 0, "input_format": "pair"},
               "positive": {"kind": "vader", "model": None, "logit_index": 0,
                            "input_format": "pair"}}
    built = build_index("results/models/base", "chat", list(scorers), [1],
                        {"paretohqd": ("results/p/{seed}/{pref}", PREFS)}, scorers, 128)
    assert built["scorers"]["harmless"]["model"] == {"path": "reward_models/harmless",
                                                     "in_results": True}
    write_json(built, tmp_path / INDEX)
    served = Served.load(tmp_path)
    specs = served.scorers()
    assert specs["harmless"]["model"] == str(tmp_path / "reward_models/harmless")
    assert specs["helpful"]["model"] == "Ray2333/gpt2-large-helpful-reward_model"
    assert specs["positive"] == scorers["positive"] and served.scoring_max_length == 128


def test_an_index_without_reward_models_says_how_to_rebuild_it(served):
    with pytest.raises(DataError, match="lists no reward models.*snakemake results/models/index.json"):
        served.scorers()
