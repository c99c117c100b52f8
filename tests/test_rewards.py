import numpy as np
import pytest
import torch

from paretohqd.rewards.scorers import ClassifierScorer, VaderScorer, build_scorer, check_finite


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
