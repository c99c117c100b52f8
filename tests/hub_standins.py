"""Stand-in Hugging Face caches for the paper configs, built with no network.

Every hub model a paper config names gets a small, randomly initialised model of its real class
with its real configuration shrunk (width, depth, vocabulary), and a tokenizer of its real class
and layout (special tokens, their ids, BOS/EOS conventions) trained on a few hundred lines. They
are written in the hub cache's own layout (``models--org--name/refs/main`` and
``snapshots/<commit>/``), so ``from_pretrained("meta-llama/Llama-2-7b-hf")`` with
``HF_HUB_OFFLINE=1`` loads them exactly as it loads the real weights on a cluster node.

The datasets are small copies of ``Anthropic/hh-rlhf``, ``openai/summarize_from_feedback``
(``comparisons``) and ``walledai/AdvBench`` in their real fields, prepared into the datasets cache
(``Org___name/<config>/<version>/<commit>/``) as ``load_dataset`` leaves them on a login node
with internet: that prepared copy is what ``load_dataset`` reads on an offline node.
"""

from __future__ import annotations

import gzip
import json
import shutil
import zlib
from pathlib import Path
from typing import Callable

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (BartConfig, BartForSequenceClassification, DebertaV2Config,
                          DebertaV2ForSequenceClassification, DebertaV2Tokenizer, GPT2Config,
                          GPT2ForSequenceClassification, GPT2Tokenizer, LlamaConfig,
                          LlamaForCausalLM, LlamaTokenizer, PreTrainedModel,
                          PreTrainedTokenizerBase, RobertaConfig,
                          RobertaForSequenceClassification, RobertaTokenizer)

from paretohqd.data.prompts import load_embedded

COMMIT = "0" * 39 + "1"  # the snapshot every stand-in is filed under
VOCAB = 1000
WIDTH = {"hidden": 64, "heads": 4, "layers": 2, "ffn": 128}


def _corpus() -> list[str]:
    """Text to train the stand-in tokenizers on: the embedded prompts and their replies."""
    prompts = load_embedded()
    return [*prompts["prompt"], *(ref for refs in prompts["references"] for ref in refs)]


def _bpe(corpus: list[str], pre_tokenizer, special: list[str],
         alphabet: list[str] | None = None) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a BPE trained on ``corpus``; ``special`` take the first ids."""
    tokenizer = Tokenizer(models.BPE(unk_token=special[0]))
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=special, initial_alphabet=alphabet or [],
        show_progress=False))
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                            for m in model["merges"]]


def _llama_tokenizer(corpus: list[str], vocab_size: int | None = None) -> PreTrainedTokenizerBase:
    """Llama-2's layout: <unk> 0, <s> 1, </s> 2, the 256 byte-fallback tokens <0x00>..<0xFF>
    next, "▁" word starts, BOS added and EOS not, no pad token, no chat template. With
    ``vocab_size`` the vocabulary is filled to that size with words no merge produces (Llama-2's
    32,000, for a model of its exact shape)."""
    special = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    vocab, merges = _bpe(corpus, pre_tokenizers.Metaspace(replacement="▁",
                                                          prepend_scheme="first"), special)
    for i in range(len(vocab), vocab_size or 0):
        vocab[f"▁filler{i}"] = i
    return LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True, add_eos_token=False,
                          legacy=True)


def _byte_level(corpus: list[str], special: list[str]):
    return _bpe(corpus, pre_tokenizers.ByteLevel(add_prefix_space=False), special,
                pre_tokenizers.ByteLevel.alphabet())


def _gpt2_tokenizer(corpus: list[str]) -> PreTrainedTokenizerBase:
    """GPT-2's layout: byte-level BPE, <|endoftext|> as bos, eos and unk, no pad token."""
    return GPT2Tokenizer(*_byte_level(corpus, ["<|endoftext|>"]))


def _roberta_tokenizer(corpus: list[str]) -> PreTrainedTokenizerBase:
    """RoBERTa's (and BART's) layout: <s> 0, <pad> 1, </s> 2, <unk> 3, <mask>; byte-level
    BPE; pairs as ``<s> A </s></s> B </s>``."""
    return RobertaTokenizer(*_byte_level(corpus, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]))


def _deberta_v2_tokenizer(corpus: list[str]) -> PreTrainedTokenizerBase:
    """DeBERTa-v3's layout: a sentencepiece unigram with [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3;
    pairs as ``[CLS] A [SEP] B [SEP]``."""
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.train_from_iterator(corpus, trainers.UnigramTrainer(
        vocab_size=VOCAB, special_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]"],
        unk_token="[UNK]", show_progress=False))
    vocab = [tuple(piece) for piece in json.loads(tokenizer.to_str())["model"]["vocab"]]
    return DebertaV2Tokenizer(vocab=vocab, unk_id=3)


def llama_2_7b(corpus: list[str]) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """meta-llama/Llama-2-7b-hf's configuration (RMSNorm 1e-5, RoPE 10,000, 4,096 positions,
    untied embeddings) at 2 layers of width 64."""
    tokenizer = _llama_tokenizer(corpus)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=WIDTH["hidden"],
                         intermediate_size=WIDTH["ffn"], num_hidden_layers=WIDTH["layers"],
                         num_attention_heads=WIDTH["heads"], num_key_value_heads=WIDTH["heads"],
                         max_position_embeddings=4096, rms_norm_eps=1e-5, rope_theta=10000.0,
                         bos_token_id=1, eos_token_id=2, pad_token_id=None,
                         tie_word_embeddings=False)
    return LlamaForCausalLM(config), tokenizer


def _gpt2_reward(corpus: list[str], positions: int) -> tuple[PreTrainedModel,
                                                            PreTrainedTokenizerBase]:
    """A GPT-2 sequence classifier with one output and pad = <|endoftext|> (as the Ray2333 and
    Tristan reward models are configured)."""
    tokenizer = _gpt2_tokenizer(corpus)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=positions, n_embd=WIDTH["hidden"],
                        n_layer=WIDTH["layers"], n_head=WIDTH["heads"], id2label={0: "reward"},
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.eos_token_id)
    return GPT2ForSequenceClassification(config), tokenizer


def gpt2_large_reward(corpus: list[str]):
    """Ray2333/gpt2-large-{harmless,helpful}-reward_model: GPT-2 large, 1,024 positions."""
    return _gpt2_reward(corpus, 1024)


def bart_faithful(corpus: list[str]):
    """CogComp/bart-faithful-summary-detector: a BART-large classifier with 2 labels."""
    tokenizer = _roberta_tokenizer(corpus)
    config = BartConfig(vocab_size=len(tokenizer), d_model=WIDTH["hidden"],
                        encoder_layers=WIDTH["layers"], decoder_layers=WIDTH["layers"],
                        encoder_attention_heads=WIDTH["heads"],
                        decoder_attention_heads=WIDTH["heads"], encoder_ffn_dim=WIDTH["ffn"],
                        decoder_ffn_dim=WIDTH["ffn"], max_position_embeddings=1024,
                        id2label={0: "unfaithful", 1: "faithful"},
                        pad_token_id=1, bos_token_id=0, eos_token_id=2)
    return BartForSequenceClassification(config), tokenizer


def roberta_humor(corpus: list[str]):
    """mohameddhiab/humor-no-humor: a RoBERTa-base-sized classifier with 2 labels (its files,
    vocab.json + merges.txt and a 499 MB checkpoint, are RoBERTa's although tagged distilbert)."""
    tokenizer = _roberta_tokenizer(corpus)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=WIDTH["hidden"],
                           num_hidden_layers=WIDTH["layers"], num_attention_heads=WIDTH["heads"],
                           intermediate_size=WIDTH["ffn"], max_position_embeddings=514,
                           id2label={0: "no humor", 1: "humor"}, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2)
    return RobertaForSequenceClassification(config), tokenizer


def deberta_v3_reward(corpus: list[str]):
    """OpenAssistant/reward-model-deberta-v3-large-v2: DeBERTa-v3 (relative positions in 256
    buckets, c2p + p2c attention, no absolute positions) with one output."""
    tokenizer = _deberta_v2_tokenizer(corpus)
    config = DebertaV2Config(vocab_size=len(tokenizer), hidden_size=WIDTH["hidden"],
                             num_hidden_layers=WIDTH["layers"], num_attention_heads=WIDTH["heads"],
                             intermediate_size=WIDTH["ffn"], max_position_embeddings=512,
                             relative_attention=True, position_buckets=256,
                             pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm",
                             share_att_key=True, max_relative_positions=-1,
                             position_biased_input=False, type_vocab_size=0,
                             id2label={0: "reward"},
                             pad_token_id=0)
    return DebertaV2ForSequenceClassification(config), tokenizer


STANDINS: dict[str, Callable[[list[str]], tuple[PreTrainedModel, PreTrainedTokenizerBase]]] = {
    "meta-llama/Llama-2-7b-hf": llama_2_7b,
    "Ray2333/gpt2-large-harmless-reward_model": gpt2_large_reward,
    "Ray2333/gpt2-large-helpful-reward_model": gpt2_large_reward,
    "Tristan/gpt2_reward_summarization": gpt2_large_reward,
    "CogComp/bart-faithful-summary-detector": bart_faithful,
    "mohameddhiab/humor-no-humor": roberta_humor,
    "OpenAssistant/reward-model-deberta-v3-large-v2": deberta_v3_reward,
}


def _snapshot(hub_cache: Path, kind: str, repo_id: str) -> Path:
    """A fresh ``snapshots/<COMMIT>`` folder of ``repo_id`` with ``refs/main`` pointing at it."""
    repo = hub_cache / f"{kind}--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs/main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def write_model(hub_cache: Path, repo_id: str, corpus: list[str]) -> None:
    """File the stand-in of ``repo_id`` into ``hub_cache``, seeded by its name: the same weights
    each time, and other weights for each model (two reward models of one class, e.g. hh-rlhf's
    harmless and helpful GPT-2s, must score differently for a swap of them to show)."""
    torch.manual_seed(zlib.crc32(repo_id.encode()))
    model, tokenizer = STANDINS[repo_id](corpus)
    snapshot = _snapshot(hub_cache, "models", repo_id)
    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)


def _hh_rlhf_rows(corpus: list[str], split: str, part: str, offset: int, n: int) -> list[dict]:
    """hh-rlhf rows: ``chosen`` and ``rejected`` transcripts sharing all but the last assistant
    turn; every third one has two turns, so the split at the last turn is exercised."""
    rows = []
    for i in range(n):
        question, answer, other = (corpus[(7 * i + 3 * j + offset) % len(corpus)]
                                   for j in range(3))
        context = f"\n\nHuman: {question}"
        if i % 3 == 0:
            context += f"\n\nAssistant: {other}\n\nHuman: And {split} {part} {i}?"
        rows.append({"chosen": f"{context}\n\nAssistant: {answer}",
                     "rejected": f"{context}\n\nAssistant: {other}"})
    return rows


def _post(corpus: list[str], i: int, length: int) -> str:
    words, k = [], i
    while len(" ".join(words)) < length:
        words.append(corpus[k % len(corpus)])
        k += 11
    return " ".join(words)[:length]


def _comparison_rows(corpus: list[str], split: str, offset: int, n: int) -> list[dict]:
    """summarize_from_feedback ``comparisons`` rows with every field of the real schema (posts
    from ``offset`` on: the splits share none); one post too short and one too long (the loader
    keeps 100-1200 characters)."""
    rows = []
    for i in range(n):
        length = 60 if i == 0 else 1500 if i == 1 else 150 + 40 * i
        summaries = [{"text": corpus[(5 * i + j) % len(corpus)], "policy": f"sup{j}",
                      "note": None} for j in range(2)]
        rows.append({
            "info": {"id": f"t3_{split}{i}", "post": _post(corpus, offset + i, length),
                     "title": corpus[i % len(corpus)], "subreddit": "relationships",
                     "site": None, "article": None},
            "summaries": summaries, "choice": i % 2, "worker": f"w{i % 3}",
            "batch": "batch3", "split": split, "extra": {"confidence": 1 + i % 9}})
    return rows


def _write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row) + "\n")


def _prepare(datasets_cache: Path, repo_id: str, config_name: str,
             data_files: dict[str, list[str]]) -> None:
    """Prepare ``data_files`` into the datasets cache where ``load_dataset(repo_id,
    config_name)`` left it on a machine with internet: ``Org___name/<config>/0.0.0/<commit>``
    (the name in snake case)."""
    from datasets.data_files import DataFilesDict
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.json.json import Json

    staging = datasets_cache / "_staging"
    builder = Json(cache_dir=str(staging), dataset_name=repo_id.split("/")[1],
                   config_name=config_name, hash=COMMIT,
                   data_files=DataFilesDict.from_patterns(data_files))
    builder.download_and_prepare()
    org, name = repo_id.split("/")
    # the datasets library files a hub dataset under its name in snake case (AdvBench: adv_bench)
    target = (datasets_cache / f"{org}___{camelcase_to_snakecase(name)}" / config_name / "0.0.0"
              / COMMIT)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(builder.cache_dir, target)
    info_path = target / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info_path.write_text(json.dumps({**info, "config_name": config_name}))
    shutil.rmtree(staging)


def write_hh_rlhf(hub_cache: Path, datasets_cache: Path, corpus: list[str],
                  rows_per_file: int = 12) -> None:
    """Anthropic/hh-rlhf: ``<part>/{train,test}.jsonl.gz`` for two of its parts."""
    snapshot = _snapshot(hub_cache, "datasets", "Anthropic/hh-rlhf")
    files: dict[str, list[str]] = {"train": [], "test": []}
    for offset, part in enumerate(("harmless-base", "helpful-base")):
        for split in files:
            path = snapshot / part / f"{split}.jsonl.gz"
            start = 1000 * offset + (500 if split == "test" else 0)  # no prompt in both splits
            rows = _hh_rlhf_rows(corpus, split, part, start, rows_per_file)
            _write_jsonl_gz(path, rows)
            files[split].append(str(path))
    _prepare(datasets_cache, "Anthropic/hh-rlhf", "default", files)


def write_summarize_from_feedback(hub_cache: Path, datasets_cache: Path, corpus: list[str],
                                  rows_per_split: int = 12) -> None:
    """openai/summarize_from_feedback, config ``comparisons``: train and validation splits."""
    snapshot = _snapshot(hub_cache, "datasets", "openai/summarize_from_feedback")
    files = {}
    for offset, split in enumerate(("train", "validation")):
        path = snapshot / "comparisons" / f"{split}.jsonl.gz"
        _write_jsonl_gz(path, _comparison_rows(corpus, split, 1000 * offset, rows_per_split))
        files[split] = [str(path)]
    _prepare(datasets_cache, "openai/summarize_from_feedback", "comparisons", files)


def write_advbench(hub_cache: Path, datasets_cache: Path, corpus: list[str],
                   rows: int = 12) -> None:
    """walledai/AdvBench (a held-out prompt set of the hh-rlhf configs): split ``train`` with
    fields ``prompt`` and ``target``, from lines of the corpus that no hh-rlhf row uses."""
    snapshot = _snapshot(hub_cache, "datasets", "walledai/AdvBench")
    path = snapshot / "data" / "train.jsonl.gz"
    _write_jsonl_gz(path, [{"prompt": corpus[2000 + 13 * i],
                            "target": f"Sure, here is {corpus[2001 + 13 * i]}"}
                           for i in range(rows)])
    _prepare(datasets_cache, "walledai/AdvBench", "default", {"train": [str(path)]})


# the hub datasets of the prompt sources and held-out sets, by repository
DATASETS = {"Anthropic/hh-rlhf": write_hh_rlhf,
            "openai/summarize_from_feedback": write_summarize_from_feedback,
            "walledai/AdvBench": write_advbench}


def build_cache(home: Path, model_names: set[str], datasets: set[str]) -> dict[str, str]:
    """Write the stand-ins of ``model_names`` and of the hub ``datasets`` under
    ``home``; return the environment that points Hugging Face's libraries at them, offline."""
    unknown = sorted(model_names - STANDINS.keys())
    if unknown:
        raise KeyError(f"no stand-in for the hub models {unknown}: add them to STANDINS")
    hub_cache, datasets_cache = home / "hub", home / "datasets"
    corpus = _corpus()
    for name in sorted(model_names):
        write_model(hub_cache, name, corpus)
    for dataset in sorted(datasets):
        DATASETS[dataset](hub_cache, datasets_cache, corpus)
    return {"HF_HOME": str(home), "HF_HUB_CACHE": str(hub_cache),
            "HF_DATASETS_CACHE": str(datasets_cache), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1"}
