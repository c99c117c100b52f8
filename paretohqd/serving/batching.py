"""Batched generation for ``paretohqd serve``: a scheduler thread gathers the waiting requests
into one batch whatever their preferences, and draws every answer of the batch together.

Each row of a batch is one answer of one request, with its own blend of adapters
(``AdapterBank``), its own random generator (seeded from the request's seed and the answer's
index, so an answer does not depend on which rows share its batch), temperature (0: greedy),
top-p, stop sequences and length. Rows leave the batch as they finish (their cache rows dropped); requests that arrive
while a batch runs join it between two steps (their prompts run through the model and their
cache rows are appended). What batching changes: the arithmetic of a row's forward pass
(padding, the matrix shapes) differs slightly with its batch, so a seeded answer is
reproducible for the same seed and the same batch composition, and may differ in a late token
when it shares a batch with other requests.
"""

from __future__ import annotations

import collections
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from transformers import DynamicCache

from paretohqd.policy.generation import nucleus_draw
from paretohqd.serving.adapter_bank import AdapterBank
from paretohqd.serving.prefix_cache import PrefixCache
from paretohqd.serving.row_lora import Blend
from paretohqd.serving.streaming import AnswerText

STOP = "stop"  # the model ended its answer, or a stop sequence did
LENGTH = "length"  # the answer reached max_tokens
SEED_MIX = 1_000_003  # answer i of a request seeded s draws from seed s * SEED_MIX + i


class QueueFull(RuntimeError):
    """The scheduler's queue holds its maximum of waiting requests."""


class Cancelled(RuntimeError):
    """The request's client went away before its answers were drawn."""


@dataclass(frozen=True)
class Completion:
    """One answer: its text (stripped, as the workflow's answers are), how many tokens it drew
    (its end-of-sequence token not counted) and why it ended (``STOP``, ``LENGTH``)."""

    text: str
    tokens: int
    finish_reason: str


@dataclass
class Job:
    """One request's work: ``n`` answers to ``tokens`` from the adapters ``chosen``.
    ``on_delta(index, text)`` (optional) gets each answer's text as it is drawn, from the
    scheduler's thread; ``cancel`` stops the request's rows at the next step."""

    chosen: Sequence[dict]
    tokens: Sequence[int]
    n: int
    temperature: float
    top_p: float
    max_new_tokens: int
    seed: int
    stop: Sequence[str] = ()
    on_delta: Callable[[int, str], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future = field(default_factory=Future)
    finished: list["Row"] = field(default_factory=list)  # its rows that have ended


@dataclass
class Row:
    """One answer being drawn."""

    job: Job
    index: int
    adapter: Blend | None  # None: the base model alone
    generator: torch.Generator
    text: AnswerText
    drawn: int = 0
    finish_reason: str | None = None


def row_generator(seed: int, index: int, device: torch.device) -> torch.Generator:
    """The random generator of answer ``index`` of a request seeded ``seed``."""
    return torch.Generator(device=device).manual_seed((seed * SEED_MIX + index) % 2**64)


def pinned_by(blend: Blend | None) -> set[int]:
    """The ids of the adapters a row of ``blend`` needs held."""
    return set() if blend is None else {id(lora) for lora in blend.adapters()}


class Scheduler:
    """Gathers jobs into batches of at most ``max_batch_rows`` answers and draws them on a
    thread of its own (``start=False``: only when ``drain`` is called); ``max_queue`` jobs may
    wait (``submit`` raises ``QueueFull`` beyond). Prompts that begin with ``prefix``'s tokens
    take their keys and values from it."""

    def __init__(self, bank: AdapterBank, tokenizer, stop_ids: set[int], pad_token_id: int,
                 max_batch_rows: int = 32, max_queue: int = 64,
                 on_step: Callable[[int], None] | None = None, start: bool = True,
                 prefix: PrefixCache | None = None) -> None:
        self.bank, self.tokenizer, self.stop_ids, self.prefix = bank, tokenizer, stop_ids, prefix
        self.pad_token_id, self.max_batch_rows, self.max_queue = (pad_token_id, max_batch_rows,
                                                                  max_queue)
        self.on_step = on_step  # called with the batch's row count after each step
        self._waiting: collections.deque[Job] = collections.deque()
        self._wake = threading.Condition()
        self.running_rows = 0
        if start:
            threading.Thread(target=self._serve, name="paretohqd-batches", daemon=True).start()

    @property
    def queue_depth(self) -> int:
        """Jobs waiting for a place in a batch."""
        return len(self._waiting)

    def submit(self, job: Job) -> Future:
        """Queue ``job``; its future resolves to its ``Completion``s (or raises)."""
        with self._wake:
            if len(self._waiting) >= self.max_queue:
                raise QueueFull(f"{len(self._waiting)} requests are waiting, the most this "
                                f"server queues (--max-queue {self.max_queue})")
            self._waiting.append(job)
            self._wake.notify()
        return job.future

    def drain(self) -> None:
        """Draw every queued job on the calling thread (a scheduler made with ``start=False``),
        the waiting jobs together in batches as the thread would take them."""
        while self._waiting:
            self._run_batch()

    # ---- the scheduler's thread ------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._waiting:
                    self._wake.wait()
            try:
                self._run_batch()
            except Exception:  # noqa: BLE001 - the thread must outlive any batch
                pass  # _run_batch has failed the batch's jobs

    def _take(self, room: int) -> list[Job]:
        """Waiting jobs whose answers fit in ``room`` rows (the first always, if any)."""
        taken: list[Job] = []
        with self._wake:
            while self._waiting and (not taken or self._waiting[0].n <= room):
                job = self._waiting.popleft()
                if job.cancel.is_set():
                    job.future.set_exception(Cancelled("the client went away"))
                    continue
                taken.append(job)
                room -= job.n
        return taken

    def _rows(self, jobs: Sequence[Job], pinned: set[int]) -> list[Row]:
        rows: list[Row] = []
        device = self.bank.device
        for job in jobs:
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                adapter = self.bank.adapter(job.chosen, pinned)
            except Exception as err:  # noqa: BLE001 - this job fails, the batch goes on
                job.future.set_exception(err)
                continue
            pinned |= pinned_by(adapter)
            rows += [Row(job, i, adapter, row_generator(job.seed, i, device),
                         AnswerText(self.tokenizer, job.stop)) for i in range(job.n)]
        return rows

    def _run_batch(self) -> None:
        pinned: set[int] = set()
        batch = Batch(self.bank, self.pad_token_id, self.prefix)
        try:
            batch.add(self._rows(self._take(self.max_batch_rows), pinned))
            while batch.rows:
                self.running_rows = len(batch.rows)
                tokens = self._draw(batch)
                finished = [self._advance(row, token) for row, token in zip(batch.rows, tokens)]
                if self.on_step:
                    self.on_step(len(batch.rows))
                ended = [row for row, done in zip(batch.rows, finished) if done]
                batch.keep([not done for done in finished])
                pinned = {i for row in batch.rows for i in pinned_by(row.adapter)}
                self.bank.trim(pinned)  # adapters beyond the cap that no running row uses
                self._resolve(ended)
                if batch.rows:
                    batch.step()
                # waiting requests join: their prompts' scores sit beside the others' next ones
                batch.add(self._rows(self._take(self.max_batch_rows - len(batch.rows)), pinned))
        except Exception as err:
            for row in batch.all_rows:
                if not row.job.future.done():
                    row.job.future.set_exception(err)
            raise
        finally:
            self.running_rows = 0

    def _draw(self, batch: "Batch") -> list[int]:
        tokens = []
        for i, row in enumerate(batch.rows):
            scores = batch.logits[i:i + 1]
            job = row.job
            if job.temperature == 0:
                tokens.append(int(scores.argmax()))
            else:
                tokens.append(int(nucleus_draw(scores, job.temperature, job.top_p,
                                               generator=row.generator)))
        return tokens

    def _advance(self, row: Row, token: int) -> bool:
        """Add ``token`` to ``row``; True when the row has finished."""
        job = row.job
        if job.cancel.is_set():
            row.finish_reason = "cancelled"
        elif token in self.stop_ids:
            row.finish_reason = STOP
        else:
            row.drawn += 1
            self._send(row, row.text.push(token))
            if row.text.stopped:
                row.finish_reason = STOP
            elif row.drawn >= job.max_new_tokens:
                row.finish_reason = LENGTH
        if row.finish_reason is None:
            return False
        if row.finish_reason != "cancelled":
            self._send(row, row.text.finish())
        return True

    @staticmethod
    def _resolve(ended: Sequence[Row]) -> None:
        """Count the ended rows to their jobs; a job whose rows have all ended gets its
        answers."""
        for row in ended:
            job = row.job
            job.finished.append(row)
            if len(job.finished) < job.n:
                continue
            if job.cancel.is_set():
                job.future.set_exception(Cancelled("the client went away"))
            else:
                job.future.set_result([Completion(r.text.text, r.drawn, r.finish_reason)
                                       for r in sorted(job.finished, key=lambda r: r.index)])

    @staticmethod
    def _send(row: Row, delta: str) -> None:
        if delta and row.job.on_delta:
            row.job.on_delta(row.index, delta)


class Batch:
    """The rows being drawn together and their model state: a key/value cache row, attention
    mask and next position per row (padded to a common length, the padding masked)."""

    def __init__(self, bank: AdapterBank, pad_token_id: int,
                 prefix: PrefixCache | None = None) -> None:
        self.bank, self.pad_token_id, self.prefix = bank, pad_token_id, prefix
        self.rows: list[Row] = []
        self.all_rows: list[Row] = []
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None
        self.positions: torch.Tensor | None = None  # (rows, 1): the next token's position
        self.logits: torch.Tensor | None = None  # (rows, vocabulary): the next token's scores

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                 cache: DynamicCache, rows: Sequence[Row]) -> torch.Tensor:
        self.bank.rows.use([r.adapter for r in rows])
        out = self.bank.base(input_ids=ids, attention_mask=mask, position_ids=positions,
                             cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1].float()

    @torch.inference_mode()
    def add(self, rows: Sequence[Row]) -> None:
        """Run the new rows' prompts through the model and append them to the batch (those
        that begin with the prefix cache's tokens from its keys and values)."""
        covered = [self.prefix is not None and self.prefix.covers(r.job.tokens) for r in rows]
        whole = [r for r, c in zip(rows, covered) if not c]
        prefixed = [r for r, c in zip(rows, covered) if c]
        if whole:
            self._add(whole, 0)
        if prefixed:
            self._add(prefixed, len(self.prefix.tokens))

    def _add(self, rows: Sequence[Row], shared: int) -> None:
        """Append ``rows``, whose first ``shared`` tokens come from the prefix cache: laid out
        as [shared prefix][left padding][rest of the prompt], the padding masked, positions
        following the mask."""
        device = self.bank.device
        rest = [list(r.job.tokens[shared:]) for r in rows]
        width = max(len(tokens) for tokens in rest)
        ids = torch.tensor([[self.pad_token_id] * (width - len(t)) + t for t in rest],
                           device=device)
        mask = torch.tensor([[1] * shared + [0] * (width - len(t)) + [1] * len(t) for t in rest],
                            device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        cache = self._prefix_cache(rows) if shared else DynamicCache(config=self.bank.base.config)
        logits = self._forward(ids, mask, positions, cache, rows)
        positions = positions[:, -1:] + 1
        if self.cache is None:
            self.cache, self.mask, self.positions, self.logits = cache, mask, positions, logits
        else:
            self._append(cache, mask, positions, logits)
        self.rows += rows
        self.all_rows += rows

    def _prefix_cache(self, rows: Sequence[Row]) -> DynamicCache:
        """A cache holding each row's keys and values of the shared prefix (computed for the
        blends the prefix cache does not hold)."""
        held = []
        for row in rows:
            key = None if row.adapter is None else row.adapter.key
            keys_values = self.prefix.get(key)
            if keys_values is None:
                tokens = self.prefix.tokens
                one = DynamicCache(config=self.bank.base.config)
                self._forward(torch.tensor([tokens], device=self.bank.device),
                              torch.ones(1, len(tokens), dtype=torch.long, device=self.bank.device),
                              torch.arange(len(tokens), device=self.bank.device)[None], one, [row])
                keys_values = [(layer.keys, layer.values) for layer in one.layers]
                self.prefix.put(key, keys_values)
            held.append(keys_values)
        cache = DynamicCache(config=self.bank.base.config)
        for i in range(len(held[0])):
            cache.update(torch.cat([kv[i][0] for kv in held]), torch.cat([kv[i][1] for kv in held]), i)
        return cache

    def _append(self, cache: DynamicCache, mask: torch.Tensor, positions: torch.Tensor,
                logits: torch.Tensor) -> None:
        """Join a new cache to the batch's along the rows, the shorter left-padded."""
        old, new = self.mask.shape[1], mask.shape[1]
        width = max(old, new)

        def pad(t: torch.Tensor, length: int, dim: int) -> torch.Tensor:
            if length == width:
                return t
            shape = list(t.shape)
            shape[dim] = width - length
            return torch.cat([t.new_zeros(shape), t], dim=dim)

        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([pad(mine.keys, old, 2), pad(theirs.keys, new, 2)])
            mine.values = torch.cat([pad(mine.values, old, 2), pad(theirs.values, new, 2)])
        self.mask = torch.cat([pad(self.mask, old, 1), pad(mask, new, 1)])
        self.positions = torch.cat([self.positions, positions])
        self.logits = torch.cat([self.logits, logits])

    def keep(self, keep: Sequence[bool]) -> None:
        """Drop the rows that ``keep`` marks False (after they drew their last token)."""
        index = [i for i, k in enumerate(keep) if k]
        if len(index) == len(self.rows):
            return
        rows = [self.rows[i] for i in index]
        if not rows:
            self.rows, self.cache = [], None
            return
        select = torch.tensor(index, device=self.mask.device)
        self.cache.batch_select_indices(select)
        self.mask, self.positions = self.mask[select], self.positions[select]
        self.logits = self.logits[select]
        self.rows = rows

    @torch.inference_mode()
    def step(self) -> None:
        """Run each row's last drawn token through the model: the next scores."""
        ids = torch.tensor([[r.text.tokens[-1]] for r in self.rows], device=self.mask.device)
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.rows), 1)], dim=1)
        self.logits = self._forward(ids, self.mask, self.positions, self.cache, self.rows)
        self.positions = self.positions + 1
