"""ParetoHqD's configured stage-2 sizes and the recipes its model cards state
(paretohqd/methods/paretohqd/config.py)."""

from paretohqd.methods.paretohqd.config import (stage1_recipe, stage2_frame, stage2_k, stage2_steps,
                                             variant_recipe)
from tiny_settings import tiny_config


def test_stage2_defaults_to_half_of_stage1_and_takes_explicit_values():
    config = tiny_config(selection={"k": 9}, sft={"steps": 1},
                         stage2={"k": None, "steps": None})
    assert (stage2_k(config), stage2_steps(config)) == (4, 1)  # halves, at least 1
    config = tiny_config(selection={"k": 9}, stage2={"k": 7, "steps": 3})
    assert (stage2_k(config), stage2_steps(config)) == (7, 3)


def test_recipes_name_the_pool_layers_only_for_modes_that_use_them():
    config = tiny_config(selection={"k": 8, "layers": "auto", "normalisation": "minmax"},
                         sft={"steps": 10}, stage2={"k": None, "steps": None, "prompts": 30,
                                                    "samples_per_prompt": 2})
    assert stage1_recipe(config, "direction") == {
        "selection mode": "direction", "Pareto layers": "auto", "stage-1 k": 8,
        "reward normalisation": "minmax", "stage-1 steps": 10}
    assert "Pareto layers" not in stage1_recipe(config, "linear")
    assert variant_recipe(config, "linear", ["p000_100", "p050_050"], True) == {
        "selection mode": "linear", "stage-1 k": 8, "reward normalisation": "minmax",
        "stage-1 steps": 10,
        "stage-2 pool": "30 train prompts x 2 answers of the stage-1 models of p000_100, "
                        "p050_050",
        "stage-2 k": 4, "stage 2 adds the stage-1 set": True, "stage-2 steps": 5}
    on_sft = variant_recipe(config, "direction", ["shared"], False, ["sft"])
    assert on_sft["stage 1"] == "the sft model (every offline row)"
    assert "stage-1 k" not in on_sft and on_sft["Pareto layers"] == "auto"


def test_stage2_frame_is_the_offline_stats_or_table_or_its_own_pool():
    assert stage2_frame(tiny_config(stage2={"frame": "pool"})) is None
    assert stage2_frame(tiny_config(stage2={"frame": "offline"},
                                    selection={"frame_quantile": 0.0})) == "stats"
    assert stage2_frame(tiny_config(stage2={"frame": "offline"},
                                    selection={"frame_quantile": 0.05})) == "table"
