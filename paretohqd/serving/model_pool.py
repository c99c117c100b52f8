"""The models behind ``paretohqd serve``: the base model loaded once, one merged model per
(method, seed, adapters and their merge weights) in an LRU cache, the run's reward models, and
one lock around everything that touches them.

Why a lock and merged copies: switching or re-weighting adapters on one shared model is state
that a concurrent request would see half-changed, and sampling draws from torch's global
generator, seeded per request. Each preference therefore gets its own merged model (never
changed after it is built), and one request at a time seeds, generates and scores, so a seeded
request gives the same answer whatever runs beside it. The HTTP side stays concurrent.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import torch
from transformers import AutoModelForCausalLM
from transformers.generation.streamers import BaseStreamer

from paretohqd.assets import check_model_source
from paretohqd.policy.generation import (
    SamplingSettings,
    generate_batch,
    load_tokenizer,
    prompt_tokens,
    render_prompt,
)
from paretohqd.rewards.scorers import build_scorer
from paretohqd.serving.model_index import Served
from paretohqd.serving.models import merged_model

STOP = "stop"  # the model ended its answer
LENGTH = "length"  # the answer reached max_tokens


@dataclass(frozen=True)
class Completion:
    """One sampled answer: its text (stripped, as the workflow's answers are), how many tokens
    it drew (its end-of-sequence token not counted) and why it ended (``STOP``, ``LENGTH``)."""

    text: str
    tokens: int
    finish_reason: str


def stop_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end an answer: the model's end-of-sequence ids and the pad token (which
    ``generate`` writes after a finished row)."""
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id,
                                                          tokenizer.pad_token_id}
    return {i for i in ids if i is not None}


def completions(new: torch.Tensor, tokenizer, stop_ids: set[int],
                max_new_tokens: int) -> list[Completion]:
    """Each row of ``generate_batch``'s new tokens as a ``Completion``."""
    out = []
    for row in new.tolist():
        drawn = next((j for j, token in enumerate(row) if token in stop_ids), len(row))
        out.append(Completion(tokenizer.decode(row, skip_special_tokens=True).strip(), drawn,
                              LENGTH if drawn >= max_new_tokens else STOP))
    return out


class ModelPool:
    """A finished run's models, shared by every request of a server."""

    def __init__(self, served: Served, device: torch.device, dtype: torch.dtype,
                 cache_size: int = 4) -> None:
        if cache_size < 1:
            raise ValueError(f"cache size {cache_size}: must be >= 1")
        self.served, self.device, self.dtype, self.cache_size = served, device, dtype, cache_size
        # float32 on the CPU: every merge starts from a copy of it, as `paretohqd export` does
        self.base = AutoModelForCausalLM.from_pretrained(
            check_model_source(served.base_model, "base model"), dtype=torch.float32)
        first = next(a for adapters in served.index["methods"].values() for a in adapters)
        self.tokenizer = load_tokenizer(str(served.results / first["adapter"]))
        self.stop_ids = stop_token_ids(self.base, self.tokenizer)
        self.context = getattr(self.base.config, "max_position_embeddings", None)
        self._models: OrderedDict[Hashable, Any] = OrderedDict()
        self._scorers: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def encode(self, prompt: str | Sequence[dict]) -> list[int]:
        """The prompt's tokens as the model reads them (``render_prompt``, the run's format)."""
        with self._lock:
            text = render_prompt(self.tokenizer, prompt, self.served.prompt_format)
            return prompt_tokens(self.tokenizer, [text], self.served.prompt_format)[0]

    def _model(self, key: Hashable, chosen: Sequence[dict]):
        if key in self._models:
            self.hits += 1
            self._models.move_to_end(key)
            return self._models[key]
        self.misses += 1
        model = merged_model(copy.deepcopy(self.base), chosen)
        self._models[key] = model.to(device=self.device, dtype=self.dtype).eval()
        while len(self._models) > self.cache_size:
            self._models.popitem(last=False)
        return self._models[key]

    def complete(self, key: Hashable, chosen: Sequence[dict], tokens: Sequence[int], n: int,
                 settings: SamplingSettings,
                 streamer: BaseStreamer | None = None) -> list[Completion]:
        """``n`` sampled answers to the prompt ``tokens`` from the chosen adapters merged
        (cached under ``key``), drawn exactly as the workflow's evaluation draws one batch."""
        with self._lock:
            model = self._model(key, chosen)
            new = generate_batch(model, self.tokenizer, [list(tokens)], n, settings, 0, streamer)
        return completions(new, self.tokenizer, self.stop_ids, settings.max_new_tokens)

    def score(self, prompt: str, answers: Sequence[str]) -> list[dict[str, float]]:
        """Each answer's rewards by objective, from the run's reward models (loaded on the
        first call)."""
        with self._lock:
            if self._scorers is None:
                self._scorers = {name: build_scorer(spec, self.device,
                                                    self.served.scoring_max_length)
                                 for name, spec in self.served.scorers().items()}
            values = {name: scorer.score([prompt] * len(answers), list(answers))
                      for name, scorer in self._scorers.items()}
        return [{name: float(values[name][i]) for name in values} for i in range(len(answers))]

    def cache_info(self) -> dict[str, int]:
        """Hits, misses, and the merged models held now and at most."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._models),
                "max_size": self.cache_size}
