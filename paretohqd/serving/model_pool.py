"""The models behind ``paretohqd serve``: the base model loaded once with the adapters that
requests name (``AdapterBank``), the scheduler that batches their answers (``Scheduler``), and
the run's reward models for ``score``."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import torch

from paretohqd.policy.generation import (
    load_tokenizer,
    prompt_tokens,
    render_prompt,
    shared_prefix_length,
)
from paretohqd.rewards.scorers import build_scorer
from paretohqd.serving.adapter_bank import AdapterBank
from paretohqd.serving.batching import Job, Scheduler
from paretohqd.serving.model_index import Served
from paretohqd.serving.prefix_cache import PrefixCache


def stop_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end an answer: the model's end-of-sequence ids and the pad token."""
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id,
                                                          tokenizer.pad_token_id}
    return {i for i in ids if i is not None}


class ModelPool:
    """A finished run's models, shared by every request of a server."""

    def __init__(self, served: Served, device: torch.device, dtype: torch.dtype,
                 adapters: int = 16, max_batch_rows: int = 32, max_queue: int = 64,
                 start: bool = True) -> None:
        self.served, self.device = served, device
        self.bank = AdapterBank(served.base_model, device, dtype, adapters)
        first = next(a for adapters in served.index["methods"].values() for a in adapters)
        self.tokenizer = load_tokenizer(str(served.results / first["adapter"]))
        self.stop_ids = stop_token_ids(self.bank.base, self.tokenizer)
        self.context = getattr(self.bank.base.config, "max_position_embeddings", None)
        self._tokenizing = threading.Lock()
        self.scheduler = Scheduler(self.bank, self.tokenizer, self.stop_ids,
                                   self.tokenizer.pad_token_id, max_batch_rows, max_queue,
                                   start=start, prefix=PrefixCache(self.template_prefix()))
        self._scorers: dict[str, Any] | None = None
        self._scoring = threading.Lock()

    def template_prefix(self) -> list[int]:
        """The tokens that every one-turn prompt begins with (a chat template's default system
        prompt and user header; none for raw prompts beyond what the tokenizer adds)."""
        probes = [self.encode(text) for text in ("a", "b")]
        return probes[0][:shared_prefix_length(probes)]

    def encode(self, prompt: str | Sequence[dict]) -> list[int]:
        """The prompt's tokens as the model reads them (``render_prompt``, the run's format)."""
        with self._tokenizing:
            text = render_prompt(self.tokenizer, prompt, self.served.prompt_format)
            return prompt_tokens(self.tokenizer, [text], self.served.prompt_format)[0]

    def submit(self, job: Job):
        """Queue ``job`` for the next batch (``Scheduler.submit``)."""
        return self.scheduler.submit(job)

    def score(self, prompt: str, answers: Sequence[str]) -> list[dict[str, float]]:
        """Each answer's rewards by objective, from the run's reward models (loaded on the
        first call)."""
        with self._scoring:
            if self._scorers is None:
                self._scorers = {name: build_scorer(spec, self.device,
                                                    self.served.scoring_max_length)
                                 for name, spec in self.served.scorers().items()}
            values = {name: scorer.score([prompt] * len(answers), list(answers))
                      for name, scorer in self._scorers.items()}
        return [{name: float(values[name][i]) for name in values} for i in range(len(answers))]
