"""The report's answers page: fixed prompts, one answer per model, escaped text."""

import pandas as pd

from paretohqd.evaluation.answers import pick_answers, render_answers


def answers() -> pd.DataFrame:
    rows = []
    for method, pref in [("base", "none"), ("m", "p000_100"), ("m", "p100_000")]:
        for prompt_id in ("t3", "t1", "t2"):
            for sample in (1, 0):
                rows.append({"row_id": f"{prompt_id}-{method}-{pref}-{sample}",
                             "prompt_id": prompt_id, "prompt": f"<b>{prompt_id}</b>?",
                             "response": f"{method} {pref} {prompt_id} #{sample} <script>",
                             "method": method, "pref_id": pref,
                             "harmless": 0.5, "helpful": -0.25})
    return pd.DataFrame(rows)


def test_first_prompts_by_id_and_the_first_sample_of_each_model():
    picked = pick_answers(answers(), 2)
    assert sorted(picked["prompt_id"].unique()) == ["t1", "t2"]
    assert len(picked) == 2 * 3 and picked["response"].str.contains("#0").all()


def test_page_has_one_table_per_prompt_with_preferences_as_columns_and_escapes_text():
    page = render_answers(pick_answers(answers(), 2), ["harmless", "helpful"],
                          {"none": None, "p000_100": [0.0, 1.0], "p100_000": [1.0, 0.0]}, 42)
    assert page.count("<table>") == 2 and "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;t1&lt;/b&gt;?" in page
    assert ("<th>method</th><th>none (one model for every preference)</th>"
            "<th>harmless 0.00, helpful 1.00</th><th>harmless 1.00, helpful 0.00</th>") in page
    base_row = page.split("<tr><th>base</th>")[1].split("</tr>")[0]
    assert base_row.count("<td></td>") == 2  # base answers under "none" only
    assert "harmless 0.5 · helpful -0.25" in page and "training seed 42" in page
