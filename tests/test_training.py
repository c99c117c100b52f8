"""Real TRL SFTTrainer steps with a PEFT LoRA adapter on a tiny Llama."""

import copy
import json
from dataclasses import replace

import pandas as pd
import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

import paretohqd.policy.training as training
from paretohqd.config import ConfigError
from paretohqd.policy.generation import adapter_digest, load_policy, sample_responses
from paretohqd.policy.config import SFTSettings
from paretohqd.policy.training import (NonFiniteLossError, prepare_checkpoints, run_fingerprint,
                                sft_dataset, train_adapter)
from tiny_settings import tiny_config, tiny_sampling

ROWS = pd.DataFrame({"prompt": ["What is 2+2?", "Name a colour.", "Say hi.", "Count to 3."],
                     "response": ["4.", "Blue.", "Hi!", "1, 2, 3."]})
SETTINGS = SFTSettings.from_config(tiny_config(), steps=3, seed=0)


def test_sft_dataset_formats():
    chat = sft_dataset(ROWS, "chat")[0]
    assert chat["prompt"] == [{"role": "user", "content": "What is 2+2?"}]
    assert chat["completion"] == [{"role": "assistant", "content": "4."}]
    raw = sft_dataset(ROWS, "raw")[1]
    assert raw == {"prompt": "Name a colour.", "completion": " Blue."}


def test_train_adapter_then_continue_it(tiny_causal_lm, tmp_path):
    out, ckpt = tmp_path / "stage1", tmp_path / "ckpt1"
    metrics = train_adapter(str(tiny_causal_lm), ROWS, out, ckpt, SETTINGS)
    assert metrics["steps"] == 3 and metrics["resumed_from"] is None
    assert torch.isfinite(torch.tensor(metrics["train_loss"]))
    assert (out / "adapter_config.json").is_file() and not ckpt.exists()
    assert json.loads((out / "train_metrics.json").read_text())["examples"] == 4

    base = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    tuned = PeftModel.from_pretrained(base, out)
    lora_b = [p for n, p in tuned.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # training moved the adapter

    stage2 = tmp_path / "stage2"
    train_adapter(str(tiny_causal_lm), ROWS.iloc[:2], stage2, tmp_path / "ckpt2", SETTINGS,
                  init_adapter=str(out))
    policy, tokenizer = load_policy(str(tiny_causal_lm), torch.device("cpu"), torch.float32,
                                    adapter=str(stage2))
    answers = sample_responses(policy, tokenizer, ["Hi?", "Why?"], 2,
                               tiny_sampling())
    assert [len(a) for a in answers] == [2, 2]


def test_a_continued_adapter_starts_from_the_given_adapters_weights(tiny_causal_lm, tmp_path):
    """Stage 2 trains stage 1's LoRA on, not a fresh one: continued at learning rate 0, the
    adapter it trains is stage 1's, tensor for tensor, where a fresh LoRA (B zero) is not."""
    model, stage1 = str(tiny_causal_lm), tmp_path / "stage1"
    frozen = replace(SETTINGS, steps=1, learning_rate=0.0)
    # 3 steps: the first is warm-up at learning rate 0 and leaves the fresh LoRA as it was
    train_adapter(model, ROWS, stage1, tmp_path / "ckpt", SETTINGS)
    train_adapter(model, ROWS, tmp_path / "continued", tmp_path / "ckpt", frozen,
                  init_adapter=str(stage1))
    train_adapter(model, ROWS, tmp_path / "fresh", tmp_path / "ckpt", frozen)
    start, continued, fresh = (load_file(tmp_path / name / "adapter_model.safetensors")
                               for name in ("stage1", "continued", "fresh"))
    assert continued.keys() == start.keys() == fresh.keys()
    for name, tensor in start.items():
        assert torch.equal(continued[name], tensor), name
    assert any(not torch.equal(fresh[name], tensor) for name, tensor in start.items())


class Crash(RuntimeError):
    """A job dying mid-training."""


class CrashAfterFirstCheckpoint(TrainerCallback):
    """Raise as step 2 begins, checkpoint-1 saved (``save_steps`` 1)."""

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == 1:
            raise Crash


def test_a_retrained_init_adapter_makes_a_continued_checkpoint_stale(tiny_causal_lm, tmp_path,
                                                                     monkeypatch):
    """Stage 2 dies after its first checkpoint. With stage 1 as it was, the next run resumes
    that checkpoint; once stage 1 has been retrained to other weights at the same path (an
    upstream re-run), it starts afresh from them instead of resuming a continuation of the old
    ones."""
    model, stage1, ckpt = str(tiny_causal_lm), tmp_path / "stage1", tmp_path / "ckpt2"
    real_fit = training.fit

    def crashing_fit(trainer, *args, **kwargs):
        trainer.add_callback(CrashAfterFirstCheckpoint())
        return real_fit(trainer, *args, **kwargs)

    def stage2() -> dict:
        return train_adapter(model, ROWS.iloc[:2], tmp_path / "stage2", ckpt,
                             replace(SETTINGS, steps=2), init_adapter=str(stage1))

    def crash_stage2() -> None:
        with monkeypatch.context() as patch, pytest.raises(Crash):
            patch.setattr(training, "fit", crashing_fit)  # train_adapter looks it up per call
            stage2()
        assert (ckpt / "checkpoint-1/trainer_state.json").is_file()

    train_adapter(model, ROWS, stage1, tmp_path / "ckpt1", SETTINGS)
    crash_stage2()
    assert stage2()["resumed_from"] == str(ckpt / "checkpoint-1")
    crash_stage2()
    before = adapter_digest(stage1)
    train_adapter(model, ROWS.iloc[2:], stage1, tmp_path / "ckpt1", SETTINGS)
    assert adapter_digest(stage1) != before
    assert stage2()["resumed_from"] is None


def test_training_counts_its_sequences_tokens_and_parameters(tiny_causal_lm, tmp_path):
    """Two steps of batch 2 over four rows: one epoch, every row once, so the tokens trained
    are the four rows' chat-template lengths; the count lines say the same."""
    settings = replace(SETTINGS, steps=2)
    metrics = train_adapter(str(tiny_causal_lm), ROWS, tmp_path / "out", tmp_path / "ckpt",
                            settings)
    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    lengths = [len(tokenizer.apply_chat_template(
        [{"role": "user", "content": p}, {"role": "assistant", "content": r}], tokenize=True,
        return_dict=False)) for p, r in zip(ROWS["prompt"], ROWS["response"])]
    base = AutoModelForCausalLM.from_pretrained(tiny_causal_lm).num_parameters()
    assert (metrics["sequences"], metrics["examples"], metrics["epochs"]) == (4, 4, 1.0)
    assert metrics["train_tokens"] == sum(lengths) and metrics["forward_tokens"] == 0
    assert metrics["policy_params"] == base
    assert json.loads((tmp_path / "out/train_metrics.json").read_text())["train_tokens"] == \
        sum(lengths)


def test_stale_checkpoints_are_not_resumed(tmp_path):
    ckpt = tmp_path / "ckpt"
    (ckpt / "checkpoint-2").mkdir(parents=True)
    (ckpt / "fingerprint.txt").write_text("old settings")
    assert prepare_checkpoints(ckpt, "new settings") is None
    assert not (ckpt / "checkpoint-2").exists()
    (ckpt / "checkpoint-3").mkdir()
    (ckpt / "checkpoint-3/trainer_state.json").write_text("{}")
    assert prepare_checkpoints(ckpt, "new settings").endswith("checkpoint-3")


def test_partial_checkpoints_are_not_resumed(tmp_path):
    """A job killed while saving checkpoint-4 leaves it without trainer_state.json."""
    ckpt = tmp_path / "ckpt"
    for step in (2, 4):
        (ckpt / f"checkpoint-{step}").mkdir(parents=True)
    (ckpt / "checkpoint-2/trainer_state.json").write_text("{}")
    (ckpt / "fingerprint.txt").write_text("same")
    assert prepare_checkpoints(ckpt, "same").endswith("checkpoint-2")
    assert not (ckpt / "checkpoint-4").exists()


FINGERPRINT_SETTINGS = [{"steps": 3, "learning_rate": 1e-3, "lora": {"r": 4, "alpha": 8}},
                        "base-model", [0.25, 0.75]]


def test_run_fingerprint_is_stable_for_the_same_run():
    """Equal settings and data (built anew, the settings' keys in another order, the rows
    under another index) give the same fingerprint: a resumed run finds its checkpoints."""
    reordered_keys = [{"lora": {"alpha": 8, "r": 4}, "learning_rate": 1e-3, "steps": 3},
                      "base-model", [0.25, 0.75]]
    reindexed = ROWS.copy().set_axis([10, 11, 12, 13])
    first = run_fingerprint(FINGERPRINT_SETTINGS, ROWS)
    assert run_fingerprint(FINGERPRINT_SETTINGS, ROWS.copy()) == first
    assert run_fingerprint(reordered_keys, reindexed) == first


@pytest.mark.parametrize("change", [
    "one cell", "a float by 1e-9", "a row added", "a row dropped", "rows reordered",
    "text moved between columns"])
def test_run_fingerprint_changes_with_the_data(change):
    """Any change of the training data gives a new fingerprint (stale checkpoints are not
    resumed)."""
    data = ROWS.assign(shift=[0.1, -0.2, 0.3, 0.0])
    changed = data.copy()
    if change == "one cell":
        changed.loc[2, "response"] = "Hi?"
    elif change == "a float by 1e-9":
        changed.loc[1, "shift"] += 1e-9
    elif change == "a row added":
        changed = pd.concat([data, data.iloc[[0]]], ignore_index=True)
    elif change == "a row dropped":
        changed = data.iloc[:3]
    elif change == "rows reordered":
        changed = data.iloc[[1, 0, 2, 3]]
    else:  # "What is 2+2?" | "4."  ->  "What is 2+" | "2?4."
        changed.loc[0, ["prompt", "response"]] = ["What is 2+", "2?4."]
    assert run_fingerprint(FINGERPRINT_SETTINGS, changed) != run_fingerprint(
        FINGERPRINT_SETTINGS, data)


def _with(path: tuple, value) -> list:
    """FINGERPRINT_SETTINGS with the entry at ``path`` (indices and keys) set to ``value``."""
    settings = copy.deepcopy(FINGERPRINT_SETTINGS)
    container = settings
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    return settings


@pytest.mark.parametrize("settings", [
    _with((0, "steps"), 4), _with((0, "learning_rate"), 2e-3), _with((0, "lora", "r"), 8),
    _with((1,), "other-model"), _with((2,), [0.75, 0.25]),
], ids=["steps", "learning rate", "nested lora r", "base model", "preference"])
def test_run_fingerprint_changes_with_one_setting(settings):
    """Changing any one setting (nested ones included) gives a new fingerprint."""
    assert run_fingerprint(settings, ROWS) != run_fingerprint(FINGERPRINT_SETTINGS, ROWS)


def test_a_changed_fingerprint_discards_the_checkpoints(tmp_path):
    """prepare_checkpoints with run_fingerprint: the same run resumes its checkpoint, a run on
    one changed row starts afresh."""
    ckpt = tmp_path / "ckpt"
    prepare_checkpoints(ckpt, run_fingerprint(FINGERPRINT_SETTINGS, ROWS))
    (ckpt / "checkpoint-2").mkdir()
    (ckpt / "checkpoint-2/trainer_state.json").write_text("{}")
    same = run_fingerprint(FINGERPRINT_SETTINGS, ROWS.copy())
    assert prepare_checkpoints(ckpt, same).endswith("checkpoint-2")
    changed = ROWS.copy()
    changed.loc[3, "response"] = "1, 2, 3, 4."
    assert prepare_checkpoints(ckpt, run_fingerprint(FINGERPRINT_SETTINGS, changed)) is None
    assert not (ckpt / "checkpoint-2").exists()


def test_nan_loss_stops_training_without_an_adapter(tiny_causal_lm, tmp_path):
    settings = replace(SETTINGS, learning_rate=1e12, steps=6)
    with pytest.raises(NonFiniteLossError, match=r"training loss became (nan|-?inf) by step \d+: "
                       r"lower sft\.learning_rate or check the training data; no adapter "
                       r"was written"):
        train_adapter(str(tiny_causal_lm), ROWS, tmp_path / "out", tmp_path / "ckpt", settings)
    assert not (tmp_path / "out/adapter_config.json").exists()


def test_completion_only_loss_masks_the_prompt(tiny_causal_lm, tmp_path):
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, max_length=64, report_to=[],
                     completion_only_loss=True, activation_checkpointing=False, bf16=False)
    trainer = SFTTrainer(model=model, args=args, train_dataset=sft_dataset(ROWS, "chat"),
                         processing_class=tokenizer)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained_mask = labels != -100
    assert 0 < int(trained_mask.sum()) < len(ids)  # the response trains, the prompt does not
    trained = tokenizer.decode(ids[trained_mask])
    assert "4." in trained and "2+2" not in trained


def test_logits_loss_equals_trl_tiled_loss(tiny_causal_lm, tmp_path):
    """The CPU trainer's loss (the model's own cross-entropy) is TRL's tiled-head loss on the
    same batch, prompt masked in both."""
    from trl import SFTConfig, SFTTrainer

    from paretohqd.policy.sft_trainer import LogitsLossSFTTrainer, sft_trainer_class

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, max_length=64, report_to=[],
                     completion_only_loss=True, activation_checkpointing=False, bf16=False)
    losses = []
    for trainer_class in (SFTTrainer, LogitsLossSFTTrainer):
        trainer = trainer_class(model=model, args=args, train_dataset=sft_dataset(ROWS, "chat"),
                                processing_class=tokenizer)
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(ROWS))])
        with torch.no_grad():
            losses.append(trainer.compute_loss(trainer.model, dict(batch)))
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    assert sft_trainer_class(torch.device("cpu")) is LogitsLossSFTTrainer
    assert sft_trainer_class(torch.device("cuda")) is SFTTrainer


@pytest.mark.parametrize("count_given", [True, False])
def test_length_grouped_sft_loss_and_gradients_are_the_whole_batchs(tiny_causal_lm, tmp_path,
                                                                     monkeypatch, count_given):
    """The CPU trainer's loss in length groups (each cut to its longest row) has the loss and
    gradients of the whole padded batch, whether Trainer hands it the batch's count of answer
    tokens (token losses summed over it) or not (group means weighted by their tokens)."""
    from trl import SFTConfig

    import paretohqd.policy.sft_trainer as sft_trainer
    from paretohqd.policy.sft_trainer import LogitsLossSFTTrainer, answer_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    rows = [{"prompt": "hi " * (1 + 6 * i), "response": "ok " * (2 + 4 * i)}
            for i in range(4)] + [{"prompt": "why?", "response": "because"}]
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, max_length=128, report_to=[],
                     completion_only_loss=True, activation_checkpointing=False, bf16=False)
    trainer = LogitsLossSFTTrainer(model=model, args=args, processing_class=tokenizer,
                                   train_dataset=sft_dataset(pd.DataFrame(rows), "chat"))
    batch = dict(trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))]))
    lengths = batch["attention_mask"].sum(dim=1)
    assert lengths.max() > lengths.min() + 30  # padding that the groups cut away
    count = answer_tokens(batch) if count_given else None

    def loss_and_grads(groups: int):
        monkeypatch.setattr(sft_trainer, "CPU_LENGTH_GROUPS", groups)
        model.zero_grad()
        loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=count)
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    whole_loss, whole_grads = loss_and_grads(1)
    for groups in (2, 3, 4):
        loss, grads = loss_and_grads(groups)
        assert loss == pytest.approx(whole_loss, rel=1e-5)
        for grad, whole in zip(grads, whole_grads, strict=True):
            torch.testing.assert_close(grad, whole, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("fmt", ["chat", "raw"])
def test_generation_is_seeded(tiny_causal_lm, fmt):
    """The same sampling seed gives the same answers, another seed other answers."""
    policy, tokenizer = load_policy(str(tiny_causal_lm), torch.device("cpu"), torch.float32)
    settings = tiny_sampling(max_new_tokens=5, seed=7)
    first = sample_responses(policy, tokenizer, ["a", "bb", "ccc"], 2, settings, fmt)
    again = sample_responses(policy, tokenizer, ["a", "bb", "ccc"], 2, settings, fmt)
    other = sample_responses(policy, tokenizer, ["a", "bb", "ccc"], 2,
                             replace(settings, seed=8), fmt)
    assert first == again and [len(x) for x in first] == [2, 2, 2]
    assert other != first


def test_shared_prefix_length_leaves_every_row_a_token():
    from paretohqd.policy.generation import shared_prefix_length

    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert shared_prefix_length([[1, 2], [1, 2, 3]]) == 1
    assert shared_prefix_length([[7, 1], [8, 1]]) == 0


@pytest.mark.parametrize("fmt", ["chat", "raw"])
def test_prefix_cached_batch_generates_what_each_prompt_alone_does(tiny_causal_lm, fmt):
    """The shared prefix computed once, padding between it and the rest: every row's greedy
    continuation and its first-step logits are those of the prompt run alone, unpadded."""
    from paretohqd.policy.generation import prefix_cached_inputs, render_prompt

    policy, tokenizer = load_policy(str(tiny_causal_lm), torch.device("cpu"), torch.float32)
    prompts = ["Hi", "Name three colours of the rainbow, please.", "Why is the sky blue?"]
    rows = tokenizer([render_prompt(tokenizer, p, fmt) for p in prompts],
                     add_special_tokens=fmt != "chat")["input_ids"]
    inputs = prefix_cached_inputs(policy, rows, tokenizer.pad_token_id, copies=2)
    assert inputs["input_ids"].shape[0] == 6
    assert ("cache" in inputs) == (fmt == "chat")  # raw rows share no token here
    with torch.inference_mode():
        batch = policy.generate(**inputs, do_sample=False, max_new_tokens=6, output_logits=True,
                                return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id)
        width = inputs["input_ids"].shape[1]
        for i, row in enumerate(rows):
            alone = policy.generate(input_ids=torch.tensor([row]), do_sample=False,
                                    max_new_tokens=6, output_logits=True,
                                    return_dict_in_generate=True,
                                    pad_token_id=tokenizer.pad_token_id)
            for copy in (2 * i, 2 * i + 1):
                assert batch.sequences[copy, width:].tolist() == alone.sequences[0, len(row):].tolist()
                torch.testing.assert_close(batch.logits[0][copy], alone.logits[0][0],
                                           rtol=1e-4, atol=1e-4)


def test_nucleus_sampler_draws_from_the_top_p_distribution():
    """Temperature, top-k and top-p as generate applies them: a token outside the nucleus is
    never drawn, and the others come at their renormalised probabilities."""
    import torch

    from paretohqd.policy.generation import NucleusSampler

    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log().repeat(20000, 1)
    torch.manual_seed(0)
    scores = NucleusSampler(temperature=1.0, top_p=0.9, top_k=50)(None, logits)
    assert (scores.isinf().sum(dim=1) == 3).all()  # one finite score per row: the drawn token
    drawn = scores.argmax(dim=1).bincount(minlength=4) / len(scores)
    nucleus = torch.tensor([0.5, 0.3, 0.15, 0.0]) / 0.95  # 0.5 + 0.3 < 0.9: add 0.15, stop
    torch.testing.assert_close(drawn, nucleus, atol=0.015, rtol=0)
    top1 = NucleusSampler(temperature=1.0, top_p=0.9, top_k=1)(None, logits[:100])
    assert (top1.argmax(dim=1) == 0).all()


def test_rows_whose_prompt_fills_max_length_are_counted_then_refused(tiny_causal_lm, tmp_path,
                                                                      caplog):
    """TRL drops an example whose prompt alone fills ``max_length`` (no answer token is left):
    the job says how many it dropped, and with none left it fails naming sft.max_length
    instead of failing inside the data loader."""
    long_prompt = "Tell me everything about " + "the history of the world " * 40
    settings = replace(SETTINGS, steps=1, max_length=64)
    rows = pd.DataFrame({"prompt": [long_prompt, "Hi?"], "response": ["Sure.", "Hello."]})
    with caplog.at_level("WARNING"):
        metrics = train_adapter(str(tiny_causal_lm), rows, tmp_path / "out", tmp_path / "ckpt",
                                settings)
    assert metrics["steps"] == 1
    assert "1 of 2 training rows dropped" in caplog.text
    with pytest.raises(ValueError, match=r"all 1 training rows .* raise sft.max_length"):
        train_adapter(str(tiny_causal_lm), rows.iloc[:1], tmp_path / "out2", tmp_path / "ckpt2",
                      settings)
    assert not (tmp_path / "out2").exists()


def _lora_layers(names) -> set[str]:
    """The layers (last part of their dotted names) that hold a LoRA's weights ``names``."""
    return {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in names if ".lora_" in name}


@pytest.mark.parametrize("targets, layers", [
    ("all-linear", {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}),
    (["q_proj", "v_proj"], {"q_proj", "v_proj"}),
], ids=["all-linear", "q_v"])
def test_lora_config_puts_the_lora_on_the_configured_layers(tiny_causal_lm, targets, layers):
    from peft import get_peft_model

    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    settings = replace(SETTINGS, lora_target_modules=targets)
    peft_model = get_peft_model(model, training.lora_config(settings, model))
    assert _lora_layers(name for name, _ in peft_model.named_parameters()) == layers


def test_trained_adapter_has_only_the_configured_layers(tiny_causal_lm, tmp_path):
    """RiC's targets (sft.lora_target_modules [q_proj, v_proj]) reach the trained adapter."""
    settings = replace(SETTINGS, steps=1, lora_target_modules=["q_proj", "v_proj"])
    train_adapter(str(tiny_causal_lm), ROWS, tmp_path / "out", tmp_path / "ckpt", settings)
    config = json.loads((tmp_path / "out/adapter_config.json").read_text())
    assert sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    weights = load_file(tmp_path / "out/adapter_model.safetensors")
    assert _lora_layers(weights) == {"q_proj", "v_proj"}


@pytest.mark.parametrize("targets, problem", [
    (["q_proj", "qkv_proj"], r"'qkv_proj' names no module of the base model"),
    (["mlp"], r"'mlp' names \['LlamaMLP'\] modules, not layers a LoRA adapts"),
], ids=["missing", "not a layer"])
def test_a_target_the_model_lacks_is_named_before_training(tiny_causal_lm, tmp_path, targets,
                                                           problem):
    settings = replace(SETTINGS, lora_target_modules=targets)
    with pytest.raises(ConfigError, match=rf"sft\.lora_target_modules = .*: {problem}; its "
                                          r"layers are \[.*'q_proj'.*\]"):
        train_adapter(str(tiny_causal_lm), ROWS, tmp_path / "out", tmp_path / "ckpt", settings)
    assert not (tmp_path / "out").exists() and not (tmp_path / "ckpt").exists()
