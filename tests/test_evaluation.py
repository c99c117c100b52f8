import pandas as pd
import pytest

from paretohqd.evaluation.collapse import evaluation_point, is_collapsed, repeated_ngram_share


def test_repeated_ngram_share_by_hand():
    assert repeated_ngram_share("a b c d") == 0.0
    # 3-grams: abc bca cab abc bca -> 3 distinct of 5
    assert repeated_ngram_share("a b c a b c a") == pytest.approx(0.4)
    assert repeated_ngram_share("hi") == 0.0


@pytest.mark.parametrize(
    "text, collapsed",
    [
        ("", True),
        ("Sure.", True),
        ("I can help with that request today.", False),
        ("the cat the cat the cat the cat the cat the cat", True),
        ("I am sorry, but I cannot help with making weapons.", False),
    ],
)
def test_collapse_rule(text, collapsed):
    assert is_collapsed(text) is collapsed


def test_evaluation_point():
    table = pd.DataFrame({"response": ["ok", "a fine long answer here"], "x": [1.0, 3.0],
                          "y": [0.0, 1.0]})
    assert evaluation_point(table, ["x", "y"]) == {"x": 2.0, "y": 0.5, "collapse_rate": 0.5,
                                                   "n_eval": 2}
