"""Batched, seeded sampling of responses from a causal language model (optionally + LoRA)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from tqdm.auto import tqdm
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DynamicCache,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
)
from transformers.generation.streamers import BaseStreamer

from paretohqd.assets import check_model_source
from paretohqd.io import file_digest

CHAT = "chat"


@dataclass(frozen=True)
class SamplingSettings:
    """How responses are sampled: a ``generation`` or ``evaluation`` config section's sampling
    keys (their defaults are the schema's) and the seed."""

    temperature: float
    top_p: float
    max_new_tokens: int
    batch_size: int
    seed: int


@dataclass
class TokenCount:
    """Tokens a generation job ran through the policy (what its compute is counted from):
    ``prompt`` tokens read (each prompt once per sample) and ``generated`` ones."""

    prompt: int = 0
    generated: int = 0


# transformers' default top-k, applied before top-p when sampling
TOP_K = 50


def nucleus_draw(scores: torch.Tensor, temperature: float, top_p: float, top_k: int = TOP_K,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row of ``(rows, vocabulary)`` scores, drawn from the temperature / top-k /
    top-p distribution that ``generate(do_sample=True)`` samples from: ``(rows, 1)`` token ids.
    Draws use ``generator`` (default: torch's global one).

    Why not ``generate``'s own sampling: it sorts the whole vocabulary for top-p and draws its
    multinomial over it, which on a CPU cost a quarter of a small model's generation time (49k
    tokens); here both happen on the top-k tokens only.
    """
    if temperature <= 0:
        raise ValueError(f"sampling temperature must be > 0, got {temperature}")
    top, index = (scores.float() / temperature).topk(min(top_k, scores.shape[-1]))
    probs = top.softmax(dim=-1)
    # the nucleus: the most likely tokens until their mass reaches top_p (at least one)
    probs = probs.masked_fill(probs.cumsum(dim=-1) - probs >= top_p, 0.0)
    return index.gather(-1, torch.multinomial(probs, num_samples=1, generator=generator))


class NucleusSampler(LogitsProcessor):
    """``nucleus_draw`` as a logits processor: returns scores that are 0 at the drawn token and
    -inf elsewhere, so ``generate``'s greedy argmax takes it. Draws use torch's global
    generator."""

    def __init__(self, temperature: float, top_p: float, top_k: int = TOP_K) -> None:
        if temperature <= 0:
            raise ValueError(f"sampling temperature must be > 0, got {temperature}")
        self.temperature, self.top_p, self.top_k = temperature, top_p, top_k

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        token = nucleus_draw(scores, self.temperature, self.top_p, self.top_k)
        return torch.full_like(scores, float("-inf")).scatter_(-1, token, 0.0)


def load_tokenizer(source: str) -> PreTrainedTokenizerBase:
    """A model's or adapter's tokenizer, padding on the left (for batched generation)."""
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_policy(model: str, device: torch.device, dtype: torch.dtype,
                adapter: str | None = None):
    """Load a causal LM and its tokenizer (left padding); merge a LoRA ``adapter`` if given."""
    model = check_model_source(model, "base model")
    tokenizer = load_tokenizer(adapter or model)
    policy = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
    if adapter is not None:
        from peft import PeftModel

        policy = PeftModel.from_pretrained(policy, adapter).merge_and_unload()
    return policy.to(device).eval(), tokenizer


def adapter_digest(adapter: str | Path) -> str:
    """SHA-256 of a LoRA adapter folder's weights file (hex): which training produced it."""
    return file_digest(Path(adapter) / "adapter_model.safetensors")


def answers_provenance(model: str, adapter: str | None, seed: int,
                       conditioning: dict | None = None) -> dict[str, Any]:
    """What wrote a table of answers, for its file's metadata: the base model, the adapter (its
    path and the SHA-256 of its weights, so a test or a user can tell which training produced
    it), the sampling seed and the prompt conditioning, if any."""
    return {"model": model, "adapter": adapter,
            "adapter_sha256": adapter_digest(adapter) if adapter is not None else None,
            "seed": seed, "conditioning": conditioning}


def render_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str | Sequence[dict],
                  prompt_format: str) -> str:
    """``chat``: the prompt as one user turn (or a list of ``{"role", "content"}`` messages)
    through the chat template; ``raw``: the prompt text as is (for base models without a chat
    template, e.g. hh-rlhf ``Human:/Assistant:`` transcripts)."""
    if prompt_format == CHAT:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                             add_generation_prompt=True)
    if not isinstance(prompt, str):
        raise ValueError("a raw-format model takes its prompt as one text, not messages")
    return prompt


def shared_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every row shares, leaving each row at least one of its own."""
    shortest = min(len(row) for row in rows)
    length = 0
    while length < shortest - 1 and len({row[length] for row in rows}) == 1:
        length += 1
    return length


def prefix_cached_inputs(policy, rows: Sequence[Sequence[int]], pad_token_id: int,
                         copies: int) -> dict:
    """``generate`` inputs for token ``rows``, each repeated ``copies`` times, whose shared
    leading tokens (a chat template's system prompt) run through the model once.

    Why: a chat template puts the same system prompt before every prompt (30 of the default's
    41 prompt tokens), and the prompt pass is a large share of short generations on a CPU.
    Rows are laid out as [shared prefix][left padding][rest of the row]; the attention mask
    hides the padding and positions follow the mask, so every row is computed as alone.
    """
    shared = shared_prefix_length(rows)
    width = max(len(row) for row in rows) - shared
    padding = [shared + width - len(row) for row in rows]
    ids = [list(rows[0][:shared]) + [pad_token_id] * pad + list(row[shared:])
           for row, pad in zip(rows, padding)]
    mask = [[1] * shared + [0] * pad + [1] * (len(row) - shared) for row, pad in zip(rows, padding)]
    device = next(policy.parameters()).device
    inputs = {"input_ids": torch.tensor(ids, device=device).repeat_interleave(copies, dim=0),
              "attention_mask": torch.tensor(mask, device=device).repeat_interleave(copies, dim=0)}
    if shared:
        cache = DynamicCache(config=policy.config)
        policy(input_ids=inputs["input_ids"][:1, :shared], cache=cache, use_cache=True)
        cache.batch_repeat_interleave(len(rows) * copies)
        inputs["cache"] = cache
    return inputs


def prompt_tokens(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                  prompt_format: str) -> list[list[int]]:
    """The token ids of rendered prompts (a chat template already holds its special tokens)."""
    return tokenizer(list(texts), add_special_tokens=prompt_format != CHAT)["input_ids"]


@torch.inference_mode()
def generate_batch(policy, tokenizer: PreTrainedTokenizerBase, rows: Sequence[Sequence[int]],
                   n_samples: int, settings: SamplingSettings, number: int = 0,
                   streamer: BaseStreamer | None = None) -> torch.Tensor:
    """The new tokens (padded with the pad token) of ``n_samples`` samples per prompt row, each
    row's samples in a row; batch ``number`` of a job seeds torch with ``settings.seed`` and
    itself. ``streamer`` gets the tokens as they are drawn (``generate``'s protocol)."""
    sampler = LogitsProcessorList([NucleusSampler(settings.temperature, settings.top_p)])
    # each prompt n_samples times in a row (what num_return_sequences does when sampling)
    enc = prefix_cached_inputs(policy, rows, tokenizer.pad_token_id, n_samples)
    torch.manual_seed(settings.seed * 1_000_003 + number)
    out = policy.generate(
        **enc, do_sample=False, logits_processor=sampler, streamer=streamer,
        max_new_tokens=settings.max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    return out[:, enc["input_ids"].shape[1]:]


@torch.inference_mode()
def sample_responses(policy, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str],
                     n_samples: int, settings: SamplingSettings,
                     prompt_format: str = CHAT, desc: str = "generating",
                     tokens: TokenCount | None = None) -> list[list[str]]:
    """Return ``n_samples`` sampled responses per prompt, in prompt order; add the prompt and
    generated tokens to ``tokens`` when given.

    Prompts are batched by length to limit padding, and their shared prefix is computed once
    per batch (``prefix_cached_inputs``); each batch reseeds torch from ``settings.seed`` and
    its index, so the same inputs give the same outputs on CPU.
    """
    texts = [render_prompt(tokenizer, p, prompt_format) for p in prompts]
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    results: list[list[str]] = [[] for _ in texts]
    batches = range(0, len(order), settings.batch_size)
    for number, start in enumerate(tqdm(batches, desc=desc, unit="batch")):
        index = order[start:start + settings.batch_size]
        rows = prompt_tokens(tokenizer, [texts[i] for i in index], prompt_format)
        new = generate_batch(policy, tokenizer, rows, n_samples, settings, number)
        if tokens is not None:
            tokens.prompt += n_samples * sum(len(row) for row in rows)
            tokens.generated += int((new != tokenizer.pad_token_id).sum())
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        for j, text in enumerate(decoded):
            results[index[j // n_samples]].append(text.strip())
    return results
