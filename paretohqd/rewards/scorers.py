"""Reward scorers: a transformers sequence classifier (local or hub) and VADER sentiment.

Every scorer maps lists of prompts and responses to one float per pair; higher is better.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from paretohqd.assets import check_model_source

PAIR = "pair"
RESPONSE_FIRST_PAIR = "response_pair"


class Scorer(Protocol):
    """Anything that scores (prompt, response) pairs; ``parameters`` (its model's, 0 without
    one) and ``tokens`` (read so far) are what its compute is counted from."""

    parameters: int
    tokens: int

    def score(self, prompts: Sequence[str], responses: Sequence[str],
              batch_size: int = 32) -> np.ndarray: ...


class ClassifierScorer:
    """Reads one logit of an ``AutoModelForSequenceClassification``.

    ``input_format`` is ``pair`` (prompt and response as a text pair, as a cross-encoder expects),
    ``response_pair`` (response first, as NLI-style faithfulness detectors expect) or a template with ``{prompt}`` and ``{response}`` fields, rendered into one text (as the
    paper's GPT-2 reward models expect). ``logit_index`` picks the output column (1 for the
    "positive class" logit of two-class heads).
    """

    def __init__(self, model: str, device: torch.device, logit_index: int = 0,
                 input_format: str = PAIR, max_length: int = 512,
                 dtype: torch.dtype = torch.float32) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        if self.tokenizer.pad_token is None:  # GPT-2 style reward models have no pad token
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForSequenceClassification.from_pretrained(model, dtype=dtype)
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(device).eval()
        n_out = self.model.config.num_labels
        if not 0 <= logit_index < n_out:
            raise ValueError(f"reward model {model!r} has {n_out} outputs; logit_index="
                             f"{logit_index} is out of range")
        self.device, self.logit_index = device, logit_index
        self.input_format, self.max_length = input_format, max_length
        self.parameters, self.tokens = self.model.num_parameters(), 0

    def _encode(self, prompts: Sequence[str], responses: Sequence[str]):
        if self.input_format in (PAIR, RESPONSE_FIRST_PAIR):
            first, second = list(prompts), list(responses)
            if self.input_format == RESPONSE_FIRST_PAIR:
                first, second = second, first
            return self.tokenizer(first, second, truncation="longest_first",
                                  max_length=self.max_length, padding=True, return_tensors="pt")
        texts = [self.input_format.format(prompt=p, response=r) for p, r in zip(prompts, responses)]
        return self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True,
                              return_tensors="pt")

    @torch.inference_mode()
    def score(self, prompts: Sequence[str], responses: Sequence[str],
              batch_size: int = 32) -> np.ndarray:
        """One score per pair, in input order. Pairs are batched by text length, so a batch
        pads to a similar length instead of to the longest pair of the table."""
        order = np.argsort([len(p) + len(r) for p, r in zip(prompts, responses, strict=True)],
                           kind="stable")
        scores = np.zeros(len(order))
        for start in tqdm(range(0, len(order), batch_size), desc="scoring", unit="batch",
                          mininterval=5):
            index = order[start:start + batch_size]
            enc = self._encode([prompts[i] for i in index],
                               [responses[i] for i in index]).to(self.device)
            self.tokens += int(enc["attention_mask"].sum())
            logits = self.model(**enc).logits.float()
            scores[index] = logits[:, self.logit_index].cpu().numpy()
        return scores


class VaderScorer:
    """VADER compound sentiment of the response, in [-1, 1] (the ``positive`` objective)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()
        self.parameters, self.tokens = 0, 0  # a lexicon: no model compute to count

    def score(self, prompts: Sequence[str], responses: Sequence[str],
              batch_size: int = 32) -> np.ndarray:
        return np.array([self.analyzer.polarity_scores(r)["compound"]
                         for r in tqdm(responses, desc="vader", mininterval=5)], dtype=float)


def check_finite(scores: np.ndarray, row_ids: Sequence[str], objective: str) -> None:
    """Raise if any score is NaN or infinite, naming the offending rows."""
    bad = [row_ids[i] for i, s in enumerate(scores) if not math.isfinite(float(s))]
    if bad:
        shown = ", ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise ValueError(f"reward model {objective!r} returned NaN/inf for {len(bad)} rows: {shown}")


def build_scorer(spec: dict, device: torch.device, max_length: int = 512) -> Scorer:
    """Make a scorer from the rule's ``scorer`` params (kind, model, logit_index, input_format)."""
    if spec["kind"] == "vader":
        return VaderScorer()
    if spec["kind"] == "classifier":
        return ClassifierScorer(check_model_source(spec["model"], "reward model"), device,
                                logit_index=spec["logit_index"],
                                input_format=spec["input_format"], max_length=max_length)
    raise ValueError(f"unknown scorer kind {spec['kind']!r}; expected classifier or vader")
