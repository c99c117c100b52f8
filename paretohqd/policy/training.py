"""LoRA fine-tuning with TRL trainers: SFT here (loss on the response only), and the pieces the
MODPO and MORLHF trainers share (trainer arguments, LoRA, resumable checkpoints).

Checkpoints go to a scratch folder outside the rule's output, so a killed job resumes from its
last checkpoint; the final adapter and tokenizer are written to the output folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from transformers.pytorch_utils import Conv1D
from transformers.trainer_utils import get_last_checkpoint

from paretohqd.assets import check_model_source
from paretohqd.config import ConfigError
from paretohqd.devices import resolve_device, resolve_dtype
from paretohqd.policy.generation import CHAT, adapter_digest
from paretohqd.runtime import log_count, log_phase
from paretohqd.policy.config import ALL_LINEAR, SFTSettings, TrainerSettings


def sft_dataset(rows: pd.DataFrame, prompt_format: str) -> Dataset:
    """prompt/completion rows: chat messages for ``chat`` models (the trainer applies the chat
    template and masks the prompt), plain strings for ``raw`` ones."""
    if prompt_format == CHAT:
        records = {"prompt": [[{"role": "user", "content": p}] for p in rows["prompt"]],
                   "completion": [[{"role": "assistant", "content": r}] for r in rows["response"]]}
    else:
        records = {"prompt": rows["prompt"].tolist(),
                   "completion": [" " + r for r in rows["response"]]}
    return Dataset.from_dict(records)


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class StopOnNonFiniteLoss(TrainerCallback):
    """Fail the job as soon as a logged loss is NaN or infinite, instead of saving garbage."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise NonFiniteLossError(
                f"training loss became {loss} by step {state.global_step}: lower "
                f"sft.learning_rate or check the training data; no adapter was written")


def _precision(settings: TrainerSettings, device: torch.device) -> dict[str, bool]:
    """Mixed precision in the configured dtype (``auto`` as ``resolve_dtype`` decides: bf16 only
    where it is fast here); float32 trains without autocast."""
    dtype = resolve_dtype(settings.dtype, device)
    return {"bf16": dtype == torch.bfloat16, "fp16": dtype == torch.float16}


LORA_LAYERS = (torch.nn.Linear, torch.nn.Embedding, Conv1D)  # what a LoRA adapts in a causal LM


def _target_problem(target: str, modules: dict[str, torch.nn.Module]) -> str | None:
    """Why PEFT cannot put a LoRA on the modules whose dotted name is ``target`` or ends in it
    (PEFT's match), or None if it can."""
    matched = [module for name, module in modules.items()
               if name == target or name.endswith(f".{target}")]
    if not matched:
        return f"{target!r} names no module of the base model"
    other = sorted({type(m).__name__ for m in matched if not isinstance(m, LORA_LAYERS)})
    return f"{target!r} names {other} modules, not layers a LoRA adapts" if other else None


def check_lora_targets(targets: str | list[str], model: torch.nn.Module) -> None:
    """Raise ``ConfigError`` naming ``sft.lora_target_modules`` if one of ``targets`` names no
    linear or embedding layer of ``model``; ``ALL_LINEAR`` needs no check."""
    if targets == ALL_LINEAR:
        return
    modules = dict(model.named_modules())
    for target in targets:
        problem = _target_problem(target, modules)
        if problem:
            layers = sorted({name.rsplit(".", 1)[-1] for name, module in modules.items()
                             if isinstance(module, LORA_LAYERS)})
            raise ConfigError(f"sft.lora_target_modules = {targets}: {problem}; its layers "
                              f"are {layers} (or use {ALL_LINEAR!r})")


def lora_config(settings: TrainerSettings, model: torch.nn.Module):
    """A fresh LoRA of ``model`` (a causal LM) on the layers ``settings.lora_target_modules``
    names, checked against the model before any trainer is built."""
    from peft import LoraConfig

    check_lora_targets(settings.lora_target_modules, model)
    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha,
                      lora_dropout=settings.lora_dropout,
                      target_modules=settings.lora_target_modules, task_type="CAUSAL_LM")


def trainer_args(settings: TrainerSettings, checkpoint_dir: Path) -> dict:
    """The TrainingArguments every trainer here shares: steps, batch, optimiser schedule,
    checkpointing, seeds, device and precision."""
    device = resolve_device(settings.device)
    return dict(
        output_dir=str(checkpoint_dir),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.batch_size,
        activation_checkpointing=False,
        # every LoRA weight is used in each forward: no extra autograd traversal under DDP
        ddp_find_unused_parameters=False,
        learning_rate=settings.learning_rate,
        lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=0.03,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=1,
        logging_steps=max(1, min(10, settings.steps // 5)),
        report_to=[],
        logging_nan_inf_filter=False,  # a NaN loss must reach StopOnNonFiniteLoss
        seed=settings.seed,
        data_seed=settings.seed,
        include_num_input_tokens_seen="non_padding",  # counted for the compute table
        use_cpu=device.type == "cpu",
        **_precision(settings, device),
    )


def load_base(base_model: str):
    """The base causal LM in float32 (mixed precision comes from the trainer) and its
    tokenizer, with a pad token."""
    base_model = check_model_source(base_model, "base model")
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32), tokenizer


def prepare_checkpoints(checkpoint_dir: Path, fingerprint: str) -> str | None:
    """The last complete checkpoint to resume from, or None. Checkpoints written for other
    settings or data (a different ``fingerprint``) are deleted rather than resumed, and so are
    partial ones (a job killed while saving: the trainer writes ``trainer_state.json`` last)."""
    stamp = checkpoint_dir / "fingerprint.txt"
    if checkpoint_dir.is_dir() and (not stamp.is_file() or stamp.read_text() != fingerprint):
        shutil.rmtree(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    for checkpoint in checkpoint_dir.glob("checkpoint-*"):
        if not (checkpoint / "trainer_state.json").is_file():
            shutil.rmtree(checkpoint)
    stamp.write_text(fingerprint)
    return get_last_checkpoint(str(checkpoint_dir))


def run_fingerprint(settings: object, data: pd.DataFrame) -> str:
    """Hash of everything a resumed run must share with the interrupted one: the JSON-able
    ``settings`` and the training data."""
    rows = pd.util.hash_pandas_object(data, index=False).to_numpy()
    payload = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload + rows.tobytes()).hexdigest()


ELAPSED_FILE = "elapsed_seconds.txt"


class RecordElapsed(TrainerCallback):
    """Write the training seconds so far (a resumed job's earlier runs included) into each
    checkpoint, so that a job resumed after a kill counts its work whole."""

    def __init__(self, checkpoint_dir: Path, before: float) -> None:
        self.checkpoint_dir, self.before = checkpoint_dir, before
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return self.before + time.perf_counter() - self.started

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            folder = self.checkpoint_dir / f"checkpoint-{state.global_step}"
            (folder / ELAPSED_FILE).write_text(f"{self.elapsed():.3f}\n")


def elapsed_before(checkpoint: str | None) -> float:
    """The training seconds recorded in ``checkpoint`` (0 for a fresh start, or a checkpoint
    killed before its time was written)."""
    path = Path(checkpoint) / ELAPSED_FILE if checkpoint else None
    return float(path.read_text()) if path is not None and path.is_file() else 0.0


def log_start(log: logging.Logger, checkpoint: str | None, checkpoint_dir: Path,
              steps: int) -> None:
    """Say in the job's log whether it starts afresh or resumes, and from which step (a job
    retried after a kill shows here where its work picked up)."""
    if checkpoint is None:
        log.info("no checkpoint in %s: training from step 0 of %d", checkpoint_dir, steps)
    else:
        name = Path(checkpoint).name  # checkpoint-<global step>, as the trainer names it
        log.info("resuming from %s (step %s of %d)", name, name.split("-")[-1], steps)


def fit(trainer, tokenizer, output_dir: Path, checkpoint_dir: Path,
        fingerprint: str, examples: int,
        forward_tokens: Callable[[int], int] = lambda trained: 0) -> dict[str, float]:
    """Train (resuming a matching checkpoint), save the adapter and tokenizer to
    ``output_dir`` with ``train_metrics.json``, then delete the checkpoints.

    What the job computed is logged as ``count`` lines and kept in ``train_metrics.json``:
    steps, sequences seen (steps x global batch), distinct training rows (``examples``),
    epochs, tokens through forward and backward (the trainer's count of non-padding input
    tokens, resumed runs included), tokens through forward passes only (``forward_tokens``
    of the trained ones: reference log-probabilities, generation) and the policy's parameters.
    The ``work`` phase is the training time of every run of the job together.
    """
    log = logging.getLogger(__name__)
    trainer.add_callback(StopOnNonFiniteLoss())
    main = trainer.is_world_process_zero()  # under accelerate launch, rank 0 does the I/O
    if main:
        prepare_checkpoints(checkpoint_dir, fingerprint)
    trainer.accelerator.wait_for_everyone()
    last = get_last_checkpoint(str(checkpoint_dir))
    if main:
        log_start(log, last, checkpoint_dir, trainer.args.max_steps)
    clock = RecordElapsed(checkpoint_dir, elapsed_before(last))
    trainer.add_callback(clock)
    result = trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(output_dir))
    args = trainer.args
    steps = int(result.global_step)
    sequences = (steps * args.per_device_train_batch_size * args.gradient_accumulation_steps
                 * args.world_size)
    tokens = int(trainer.state.num_input_tokens_seen)
    metrics = {"train_loss": float(result.training_loss), "steps": steps,
               "examples": int(examples), "sequences": sequences,
               "epochs": sequences / examples if examples else float("nan"),
               "train_tokens": tokens, "forward_tokens": int(forward_tokens(tokens)),
               "policy_params": sum(p.numel() for name, p in trainer.model.named_parameters()
                                    if "lora_" not in name),
               "seconds": clock.elapsed(), "resumed_from": last}
    if main:  # the counts are the job's (global batch, tokens of every process) once
        log_phase(log, "work", metrics["seconds"])
        for name in ("steps", "sequences", "examples", "train_tokens", "forward_tokens"):
            log_count(log, name, metrics[name])
        # LoRA: the backward pass runs through the frozen base (FLOPs about 4 N T, not 6 N T)
        log_count(log, "lora_train_param_tokens", metrics["policy_params"] * tokens)
        log_count(log, "forward_param_tokens",
                  metrics["policy_params"] * metrics["forward_tokens"])
        tokenizer.save_pretrained(str(output_dir))
        (output_dir / "train_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        shutil.rmtree(checkpoint_dir)  # the adapter is saved; a later re-run must start afresh
    return metrics


def train_adapter(base_model: str, rows: pd.DataFrame, output_dir: Path, checkpoint_dir: Path,
                  settings: SFTSettings, prompt_format: str = CHAT,
                  init_adapter: str | None = None) -> dict[str, float]:
    """Fine-tune a LoRA adapter on ``rows`` (columns prompt, response); start from
    ``init_adapter`` (stage 2) or a fresh LoRA (stage 1). Returns loss and timing."""
    from peft import PeftModel
    from trl import SFTConfig

    from paretohqd.policy.sft_trainer import check_examples, sft_trainer_class

    model, tokenizer = load_base(base_model)
    peft_config = None
    if init_adapter is not None:
        model = PeftModel.from_pretrained(model, init_adapter, is_trainable=True)
    else:
        peft_config = lora_config(settings, model)
    args = SFTConfig(max_length=settings.max_length, completion_only_loss=True,
                     **trainer_args(settings, checkpoint_dir))
    trainer_class = sft_trainer_class(resolve_device(settings.device))
    trainer = trainer_class(model=model, args=args, train_dataset=sft_dataset(rows, prompt_format),
                            processing_class=tokenizer, peft_config=peft_config)
    check_examples(trainer, len(rows), settings.max_length)
    # the init adapter by its weights, not its path: a checkpoint continued from weights that
    # an upstream retrain has since replaced is stale
    start = adapter_digest(init_adapter) if init_adapter is not None else None
    fingerprint = run_fingerprint([asdict(settings), base_model, start],
                                  rows[["prompt", "response"]])
    return fit(trainer, tokenizer, output_dir, checkpoint_dir, fingerprint, len(rows))
