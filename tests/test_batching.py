"""The server's batched generation on a tiny real Llama with real LoRA adapters: a batch that
mixes adapters, interpolated blends, the base model, prompt lengths, rows that join late and
prompts that take a shared prefix's keys and values from the prefix cache computes every row as
its own merged model alone; greedy answers are the merged model's
``generate``; seeded answers do not depend on their batch mates; stop sequences, lengths,
cancellation, the queue's cap and the adapter cache."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from paretohqd.serving.adapter_bank import AdapterBank
from paretohqd.serving.batching import (
    LENGTH,
    STOP,
    Batch,
    Cancelled,
    Job,
    QueueFull,
    Row,
    Scheduler,
    row_generator,
)
from paretohqd.serving.model_pool import stop_token_ids
from paretohqd.serving.prefix_cache import PrefixCache
from paretohqd.serving.models import merged_model
from paretohqd.serving.streaming import AnswerText, held_back

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def base(tiny_causal_lm) -> str:
    return str(tiny_causal_lm)


@pytest.fixture(scope="module")
def adapters(base, tmp_path_factory) -> list[str]:
    """Three LoRA adapters of different ranks with random (non-zero) weights and dropout (which
    serving must leave off)."""
    folder = tmp_path_factory.mktemp("adapters")
    paths = []
    for i, rank in enumerate((4, 2, 4)):
        torch.manual_seed(10 + i)
        llama = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        model = get_peft_model(llama, LoraConfig(r=rank, lora_alpha=8, target_modules="all-linear",
                                                lora_dropout=0.5, init_lora_weights=False))
        path = folder / f"adapter{i}"
        model.save_pretrained(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def tokenizer(base):
    return AutoTokenizer.from_pretrained(base)


def chosen(*parts: tuple[str, float]) -> list[dict]:
    return [{"path": path, "merge_weight": weight} for path, weight in parts]


def prompt(tokenizer, text: str) -> list[int]:
    return tokenizer(text)["input_ids"]


def alone_logits(model, tokens: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=torch.tensor([tokens])).logits[0, -1]


@pytest.mark.parametrize("with_prefix", [False, True], ids=["whole-prompts", "prefix-cache"])
def test_a_mixed_batch_computes_every_row_as_its_merged_model_alone(
        base, adapters, tokenizer, with_prefix):
    bank = AdapterBank(base, CPU, torch.float32, capacity=8)
    asks = [chosen((adapters[0], 1.0)), chosen((adapters[1], 0.3), (adapters[2], 0.7)), None,
            chosen((adapters[0], 0.5), (adapters[1], 0.5))]
    # with a prefix cache, rows 0, 1 and 3 begin with its tokens (a template's system prompt),
    # row 2 does not: it runs whole beside them
    system = tokenizer("You are kind and brief.", add_special_tokens=False)["input_ids"]
    prefix = PrefixCache(system) if with_prefix else None
    texts = ("Hello there, how are you today?", "Hi", "A longer prompt than the second one",
             "Tell me a story")
    prompts = [(system if with_prefix and i != 2 else []) + prompt(tokenizer, text)
               for i, text in enumerate(texts)]
    names = [None if ask is None else bank.adapter(ask) for ask in asks]
    references = [AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
                  if ask is None else merged_model(base, ask) for ask in asks]

    def row(i: int, tokens: list[int] | None = None) -> Row:
        job = Job(asks[i] or [], tokens or prompts[i], 1, 0.0, 1.0, 8, 0)
        return Row(job, 0, names[i], row_generator(0, 0, CPU), AnswerText(tokenizer))

    batch = Batch(bank, tokenizer.pad_token_id, prefix)
    batch.add([row(0), row(1), row(2)])
    drawn = [list(p) for p in prompts]
    for step in range(4):
        for i, r in enumerate(batch.rows):
            k = asks.index(r.job.chosen) if r.job.chosen else 2
            assert torch.allclose(batch.logits[i], alone_logits(references[k], drawn[k]),
                                  atol=1e-5), (step, k)
        if step == 1:  # the first row leaves, the fourth joins
            batch.keep([False, True, True])
            batch.add([row(3)])
        for r, logits in zip(batch.rows, batch.logits):
            k = asks.index(r.job.chosen) if r.job.chosen else 2
            token = int(logits.argmax())
            r.text.push(token)
            drawn[k].append(token)
        batch.step()
    if with_prefix:  # the prefix ran once per blend: rows 0, 1, 3
        assert (prefix.hits, prefix.misses) == (0, 3)
        # a later row of a held blend takes its prefix from the cache, computed as alone
        late = system + prompt(tokenizer, "Another question")
        batch.add([row(1, late)])
        assert (prefix.hits, prefix.misses) == (1, 3)
        assert torch.allclose(batch.logits[-1], alone_logits(references[1], late), atol=1e-5)


def test_greedy_answers_are_the_merged_models_generate_and_seeded_ones_ignore_batch_mates(
        base, adapters, tokenizer):
    bank = AdapterBank(base, CPU, torch.float32, capacity=8)
    stop_ids = stop_token_ids(bank.base, tokenizer)
    mix = chosen((adapters[0], 0.25), (adapters[2], 0.75))
    tokens = prompt(tokenizer, "How do I keep my bike from rusting?")

    def run(*jobs: Job) -> list:
        scheduler = Scheduler(bank, tokenizer, stop_ids, tokenizer.pad_token_id, start=False)
        futures = [scheduler.submit(job) for job in jobs]
        scheduler.drain()
        return [f.result() for f in futures]

    greedy, = run(Job(mix, tokens, 1, 0.0, 1.0, 10, 0))
    model = merged_model(base, mix)
    out = model.generate(torch.tensor([tokens]), max_new_tokens=10, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)[0, len(tokens):]
    drawn = [t for t in out.tolist() if t not in stop_ids]
    assert greedy[0].text == tokenizer.decode(drawn, skip_special_tokens=True).strip()
    assert greedy[0].tokens == len(drawn)

    seeded = Job(mix, tokens, 3, 1.0, 0.9, 12, seed=7)
    alone, = run(seeded)
    mates = [Job(chosen((adapters[1], 1.0)), prompt(tokenizer, "Hi"), 2, 0.7, 1.0, 5, 1),
             Job([], prompt(tokenizer, "Another, longer, prompt for the base model"), 1, 1.0,
                 0.5, 20, 2)]
    together = run(mates[0], Job(mix, tokens, 3, 1.0, 0.9, 12, seed=7), mates[1])
    assert together[1] == alone
    assert len({a.text for a in alone}) > 1  # three draws, not one answer three times
    assert all(a.finish_reason in (STOP, LENGTH) and 0 < a.tokens <= 12 for a in alone)
    assert run(Job(mix, tokens, 3, 1.0, 0.9, 12, seed=8))[0] != alone


def test_stop_sequences_cut_the_answer_and_never_reach_the_stream(tokenizer):
    ids = tokenizer("Rust forms when iron meets water. Dry the chain after rain.")["input_ids"]
    streamed, text = [], AnswerText(tokenizer, stops=[". D"])
    for token in ids:
        streamed.append(text.push(token))
        if text.stopped:
            break
    assert text.stopped and text.text == "Rust forms when iron meets water"
    assert "".join(streamed) == text.text
    # without a stop sequence, the deltas join to the whole (stripped) text
    streamed, text = [], AnswerText(tokenizer)
    streamed += [text.push(token) for token in ids]
    streamed.append(text.finish())
    assert "".join(streamed) == text.text == tokenizer.decode(ids).strip()
    # what may begin a stop sequence waits: the longest such tail of the text
    assert held_back("water. ", [". D"]) == 2 and held_back("water.", [". D"]) == 1
    assert held_back("water", [". D"]) == 0 and held_back("a. ", [". Dx", "a"]) == 2


def test_cancelled_jobs_end_and_their_batch_mates_finish(base, adapters, tokenizer):
    bank = AdapterBank(base, CPU, torch.float32, capacity=8)
    stop_ids = stop_token_ids(bank.base, tokenizer)
    scheduler = Scheduler(bank, tokenizer, stop_ids, tokenizer.pad_token_id, start=False)
    tokens = prompt(tokenizer, "Tell me about bikes")
    gone = Job(chosen((adapters[0], 1.0)), tokens, 2, 1.0, 1.0, 30, 0)
    gone.on_delta = lambda index, delta: gone.cancel.set()  # the client leaves after a token
    stays = Job(chosen((adapters[1], 1.0)), tokens, 1, 1.0, 1.0, 6, 0)
    never = Job(chosen((adapters[1], 1.0)), tokens, 1, 1.0, 1.0, 6, 0)
    never.cancel.set()
    futures = [scheduler.submit(job) for job in (gone, stays, never)]
    scheduler.drain()
    for future in (futures[0], futures[2]):
        with pytest.raises(Cancelled):
            future.result()
    answer, = futures[1].result()
    assert answer.finish_reason in (STOP, LENGTH) and answer.tokens <= 6


def test_the_queue_refuses_past_its_cap(base, adapters, tokenizer):
    bank = AdapterBank(base, CPU, torch.float32, capacity=2)
    scheduler = Scheduler(bank, tokenizer, {tokenizer.eos_token_id}, tokenizer.pad_token_id,
                          max_queue=2, start=False)
    tokens = prompt(tokenizer, "Hi")
    for _ in range(2):
        scheduler.submit(Job([], tokens, 1, 0.0, 1.0, 2, 0))
    with pytest.raises(QueueFull, match="2 requests are waiting"):
        scheduler.submit(Job([], tokens, 1, 0.0, 1.0, 2, 0))
    assert scheduler.queue_depth == 2
    scheduler.drain()
    assert scheduler.queue_depth == 0


def test_the_bank_holds_trained_adapters_not_models_and_drops_the_least_recently_used(
        base, adapters):
    bank = AdapterBank(base, CPU, torch.float32, capacity=2)
    first = bank.adapter(chosen((adapters[0], 1.0)))
    blend = bank.adapter(chosen((adapters[1], 0.4), (adapters[2], 0.6)))
    # the interpolated preference loaded its two trained adapters: three held at most two, the
    # oldest dropped
    assert bank.cache_info() == {"hits": 0, "misses": 3, "size": 2, "max_size": 2}
    assert [weight for _, weight in blend.parts] == [0.4, 0.6]
    other = bank.adapter(chosen((adapters[2], 0.5), (adapters[1], 0.5)))
    # another preference between the same two: the same adapters, no weights of its own
    assert {id(a) for a in other.adapters()} == {id(a) for a in blend.adapters()}
    assert bank.cache_info() == {"hits": 2, "misses": 3, "size": 2, "max_size": 2}
    again = bank.adapter(chosen((adapters[0], 1.0)))
    assert again.adapters()[0] is not first.adapters()[0]  # dropped: loaded again
    base_bytes = sum(p.numel() * p.element_size() for p in bank.base.parameters())
    assert len(bank.adapter_bytes()) == 2 and sum(bank.adapter_bytes()) < base_bytes / 10


def test_the_prefix_cache_covers_prompts_that_extend_it_and_drops_the_least_recently_used():
    cache = PrefixCache([1, 2, 3], capacity=2)
    assert cache.covers([1, 2, 3, 4])
    assert not cache.covers([1, 2, 3])  # nothing of its own after the prefix
    assert not cache.covers([1, 2, 4, 5]) and not PrefixCache([]).covers([1, 2])
    first = [(torch.zeros(1), torch.zeros(1))]
    cache.put("a", first)
    cache.put("b", [])
    assert cache.get("a") is first  # "a" used last: "b" goes when "c" comes
    cache.put("c", [])
    assert cache.get("b") is None and cache.get("a") is first
    assert (cache.hits, cache.misses) == (2, 1)
