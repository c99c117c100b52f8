"""Hub-ready folders: the adapter's files without the trainer's leftovers, a tokenizer, and a
folder that PEFT loads as is; training sets' sizes and the front's measured rewards."""

import json

import pandas as pd
import pytest

from paretohqd.publishing.hub import copy_adapter, data_set, ensure_tokenizer, measured_rewards


@pytest.fixture()
def adapter(tiny_causal_lm, tmp_path):
    """A real LoRA adapter of the tiny Llama, saved without a tokenizer, plus the leftovers a
    trainer writes beside it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_causal_lm),
                           LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    path = tmp_path / "adapter"
    model.save_pretrained(path)
    (path / "training_args.bin").write_bytes(b"pickle")
    (path / "train_metrics.json").write_text("{}")
    return path


def test_published_folder_loads_with_peft_as_is(adapter, tiny_causal_lm, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path / "hub/m/seed1/p000_100"
    copy_adapter(adapter, folder, "org/base")
    assert not (folder / "training_args.bin").exists() and not (folder / "README.md").exists()
    assert (folder / "train_metrics.json").is_file()
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "org/base"
    assert ensure_tokenizer(folder, str(tiny_causal_lm))  # the adapter had none
    assert not ensure_tokenizer(folder, str(tiny_causal_lm))
    base = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    model = PeftModel.from_pretrained(base, folder)
    assert model.peft_config["default"].r == 2
    assert AutoTokenizer.from_pretrained(folder).eos_token is not None


def test_data_set_counts_rows_and_averages_objective_columns(tmp_path):
    path = tmp_path / "data.parquet"
    pd.DataFrame({"prompt": ["a", "b", "c"], "harmless": [1.0, 2.0, 3.0]}).to_parquet(path)
    found = data_set("stage 1", str(path), ["harmless", "helpful"])
    assert found.rows == 3 and found.means == {"harmless": 2.0}


def test_measured_rewards_read_the_models_row_of_the_front():
    front = pd.DataFrame({"method": ["base", "m"], "pref_id": ["none", "p000_100"],
                          "harmless": [0.1, 0.2], "se_harmless": [0.01, 0.02]})
    rewards, row = measured_rewards(front, "m", "p000_100", ["harmless"])
    assert rewards["harmless"].mean == 0.2 and rewards["harmless"].se == 0.02
    assert row["method"] == "m"
    with pytest.raises(ValueError, match=r"0 rows for \(m, p100_000\)"):
        measured_rewards(front, "m", "p100_000", ["harmless"])
