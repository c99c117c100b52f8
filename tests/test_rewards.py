import logging
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from paretohqd.evaluation.front import build_front
from paretohqd.io import DataError, file_digest, read_provenance, read_scores, write_table
from paretohqd.rewards.scorers import ClassifierScorer, VaderScorer, build_scorer, check_finite
from paretohqd.rewards.scoring import output_paths, weights_sha256, write_scores


def test_vader_prefers_positive_text():
    scores = VaderScorer().score(["q", "q"], ["I love this, wonderful!", "This is awful and sad."])
    assert scores[0] > 0.5 > -0.5 > scores[1]


def test_classifier_reads_the_configured_logit(tiny_classifier):
    prompts, responses = ["hello there", "how are you"], ["general kenobi", "fine thanks"]
    cpu = torch.device("cpu")
    zero = ClassifierScorer(str(tiny_classifier), cpu, logit_index=0)
    one = ClassifierScorer(str(tiny_classifier), cpu, logit_index=1)
    s0, s1 = zero.score(prompts, responses, batch_size=1), one.score(prompts, responses)
    with torch.inference_mode():
        enc = zero.tokenizer(prompts, responses, padding=True, return_tensors="pt")
        logits = zero.model(**enc).logits.numpy()
    np.testing.assert_allclose(s0, logits[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(s1, logits[:, 1], rtol=0, atol=1e-6)


def test_classifier_template_format(tiny_classifier):
    spec = {"kind": "classifier", "model": str(tiny_classifier), "logit_index": 1,
            "input_format": "Q: {prompt} A: {response}"}
    scorer = build_scorer(spec, torch.device("cpu"))
    with torch.inference_mode():
        enc = scorer.tokenizer(["Q: a A: b"], return_tensors="pt")
        expected = scorer.model(**enc).logits[:, 1].numpy()
    np.testing.assert_allclose(scorer.score(["a"], ["b"]), expected, rtol=0, atol=1e-6)


def test_classifier_response_pair_format_puts_the_response_first(tiny_classifier):
    """``response_pair`` (NLI-style detectors) feeds (response, prompt); ``pair`` feeds
    (prompt, response): the scores are the model's logits on those orders, and differ."""
    prompts, responses = ["is the sky blue", "name a fruit"], ["yes it is", "an apple"]
    cpu = torch.device("cpu")
    flipped = ClassifierScorer(str(tiny_classifier), cpu, logit_index=1,
                               input_format="response_pair")
    with torch.inference_mode():
        enc = flipped.tokenizer(responses, prompts, padding=True, return_tensors="pt")
        expected = flipped.model(**enc).logits[:, 1].numpy()
    scores = flipped.score(prompts, responses)
    # a random tiny head's logits differ in the fifth decimal: compare to float32 precision
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-7)
    plain = ClassifierScorer(str(tiny_classifier), cpu, logit_index=1).score(prompts, responses)
    assert np.abs(scores - plain).min() > 1e-6


def test_logit_index_out_of_range(tiny_classifier):
    with pytest.raises(ValueError, match=r"reward model '.*tiny_classifier.*' has 2 outputs; "
                                         r"logit_index=2 is out of range$"):
        ClassifierScorer(str(tiny_classifier), torch.device("cpu"), logit_index=2)


def test_check_finite_names_rows():
    with pytest.raises(ValueError, match=r"'helpful' returned NaN/inf for 2 rows: r1, r3"):
        check_finite(np.array([0.1, np.nan, 0.2, np.inf]), ["r0", "r1", "r2", "r3"], "helpful")


def test_length_sorted_batches_keep_the_input_order(tiny_classifier):
    """Pairs are batched by length; every score must still land on its own row."""
    prompts = ["a much longer question about many different things " * 3, "hi", "why?", "ok"]
    responses = ["yes", "a long and winding answer that goes on " * 4, "no", "fine"]
    scorer = ClassifierScorer(str(tiny_classifier), torch.device("cpu"), logit_index=1)
    one_by_one = [scorer.score([p], [r], batch_size=1)[0] for p, r in zip(prompts, responses)]
    gaps = np.abs(np.subtract.outer(one_by_one, one_by_one))[np.triu_indices(4, 1)]
    assert gaps.min() > 2e-6  # rows are told apart at the tolerance below
    np.testing.assert_allclose(scorer.score(prompts, responses, batch_size=2), one_by_one,
                               rtol=0, atol=1e-6)


def _scored_pair(tiny_classifier, tmp_path):
    """Rows scored by write_scores for harmless (the tiny classifier) and helpful (VADER), the
    outputs listed helpful first; the specs and each objective's table."""
    rows = pd.DataFrame({"row_id": ["r0", "r1"], "prompt_id": ["q0", "q1"],
                         "prompt": ["hello there", "how are you"],
                         "response": ["a wonderful day to you", "awful, thanks"]})
    specs = {"harmless": {"kind": "classifier", "model": str(tiny_classifier), "logit_index": 1,
                          "input_format": "pair"},
             "helpful": {"kind": "vader", "model": None, "logit_index": 0,
                         "input_format": "pair"}}
    tables = {name: tmp_path / f"scores/{name}/p100_000.parquet" for name in specs}
    write_scores(rows, specs, [str(tables["helpful"]), str(tables["harmless"])],
                 torch.device("cpu"), max_length=32, batch_size=2, log=logging.getLogger())
    return rows, specs, tables


def test_score_tables_record_their_scorer_and_pair_by_name(tiny_classifier, tmp_path):
    """Each table holds its own objective's scores, whatever the order of the outputs, and
    records that objective, the scorer spec and the SHA-256 of the model's weights (none for
    VADER)."""
    rows, specs, tables = _scored_pair(tiny_classifier, tmp_path)
    weights = tiny_classifier / "model.safetensors"
    assert read_provenance(tables["harmless"]) == {
        "objective": "harmless", **specs["harmless"],
        "weights_sha256": {"model.safetensors": file_digest(weights)}}
    assert read_provenance(tables["helpful"]) == {"objective": "helpful", **specs["helpful"],
                                                  "weights_sha256": {}}
    for name, spec in specs.items():
        expected = build_scorer(spec, torch.device("cpu"), 32).score(rows["prompt"].tolist(),
                                                                     rows["response"].tolist())
        np.testing.assert_allclose(read_scores(tables[name], name)["score"], expected,
                                   rtol=0, atol=1e-6)


def test_a_table_read_for_another_objective_is_refused(tiny_classifier, tmp_path):
    """The summary's reading (build_front), fed harmless's table as helpful's and the other way
    round, stops naming the file, the objective it was read for and the scorer it records."""
    rows, _, tables = _scored_pair(tiny_classifier, tmp_path)
    responses = tmp_path / "responses.parquet"
    write_table(rows, responses)
    with pytest.raises(DataError, match=(
            rf"^{re.escape(str(tables['helpful']))}: read as objective 'harmless'\'s scores but "
            r"scored by objective 'helpful'\'s scorer \(vader None\)$")):
        build_front([("m", "p100_000", 1, [1.0, 0.0])], ["harmless", "helpful"],
                    [str(responses)], [str(tables["helpful"]), str(tables["harmless"])], {})
    with pytest.raises(DataError, match=(
            r"read as objective 'helpful'\'s scores but scored by objective 'harmless'\'s "
            rf"scorer \(classifier {re.escape(str(tiny_classifier))}\)$")):
        read_scores(tables["harmless"], "helpful")


def test_a_table_without_its_scorer_is_refused(tmp_path):
    table = tmp_path / "scores/helpful/p100_000.parquet"
    write_table(pd.DataFrame({"row_id": ["r0"], "score": [0.5]}), table)
    with pytest.raises(DataError, match=r"records no scorer .*: delete it and run the "
                                        r"workflow again to re-score its answers$"):
        read_scores(table, "helpful")


def test_every_objective_needs_exactly_one_output_naming_it():
    assert output_paths(["a", "b"], ["s/b/p.parquet", "offline/a.parquet"]) == {
        "a": "offline/a.parquet", "b": "s/b/p.parquet"}
    for outputs in (["s/a/p.parquet", "s/c/p.parquet"], ["s/a/p.parquet", "a/b.parquet"],
                    ["s/a/p.parquet", "s/b/p.parquet", "s/b/q.parquet"]):
        with pytest.raises(ValueError, match=r"do not name each objective of \['a', 'b'\] "
                                             r"exactly once"):
            output_paths(["a", "b"], outputs)


def test_a_hub_models_weights_are_hashed_in_its_cached_snapshot(tiny_classifier, tmp_path,
                                                                monkeypatch):
    """A hub name's digest is that of the snapshot from_pretrained loads (the cache's layout:
    models--org--name/refs/main and snapshots/<commit>/), as for a folder."""
    import huggingface_hub.constants

    commit = "0" * 39 + "1"
    repo = tmp_path / "models--org--tiny"
    shutil.copytree(tiny_classifier, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs/main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    digest = {"model.safetensors": file_digest(tiny_classifier / "model.safetensors")}
    assert weights_sha256("org/tiny") == weights_sha256(str(tiny_classifier)) == digest
