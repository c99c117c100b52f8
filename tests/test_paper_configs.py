"""The paper configs end to end, on stand-in weights under the real hub names, offline.

config/hh_rlhf_3obj.yaml and reddit_tldr.yaml each run through every rule to the summary with
``HF_HUB_OFFLINE=1``, reading a Hugging Face cache that tests/hub_standins.py fills with small
random models of the real classes (a Llama policy with Llama-2's tokenizer layout, GPT-2, BART,
RoBERTa and DeBERTa-v3 reward models) and with small copies of hh-rlhf and
summarize_from_feedback in their real formats. The loading code is the code a cluster run
uses; only the cache's content is small. config/hh_rlhf.yaml is hh_rlhf_3obj.yaml less its
humour objective, with other preferences and pool factor: its models, prompts and AdvBench set
run in the 3-objective run, and its own DAG is the dry run of
tests/test_dags.py::test_dry_run_builds_the_full_dag_offline. The runs are sized down on
the command line (tests/configs/paper_sizes.yaml, and the preferences cut to the middle one of
the config's own list: the paper's 11 or 13 would only repeat the same rules, and each
repetition costs a minute of the suite; held-out sets cut to two prompts); nothing else is
changed. The 3-objective run is also served (``paretohqd serve``) and its page's preference
triangle driven in headless Chromium (tests/headless_browser.py).
Marker ``paper``: ``make test PYTEST_ARGS='-m "not paper"'`` leaves them out.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pytest
import yaml

from headless_browser import browser  # noqa: F401  (the fixture, for the page's test)
from hub_standins import build_cache
from paretohqd.data.prefetch import DATASET, MODEL, hub_assets
from paretohqd.serving.model_index import Served
from pipeline_checks import (
    check_evaluated_models,
    check_front,
    check_judges,
    check_selections,
    run_config,
)
from workflow_runner import ROOT, snakemake

pytestmark = [pytest.mark.e2e, pytest.mark.paper]

SIZES = ROOT / "tests/configs/paper_sizes.yaml"
# the configs run end to end (config/hh_rlhf.yaml's parts run in hh_rlhf_3obj's: docstring)
PAPER_CONFIGS = ["hh_rlhf_3obj", "reddit_tldr"]


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory) -> dict[str, str]:
    """One stand-in cache with what `paretohqd prefetch` fetches for the paper configs run here
    (``hub_assets``): the runs offline from it show that the list misses nothing."""
    assets = [asset for name in PAPER_CONFIGS
              for asset in hub_assets(run_config(ROOT / f"config/{name}.yaml"))]
    return build_cache(tmp_path_factory.mktemp("hf"),
                       {a.repo_id for a in assets if a.kind == MODEL},
                       {a.repo_id for a in assets if a.kind == DATASET})


@pytest.fixture(scope="module", params=PAPER_CONFIGS)
def paper_run(request, hub_env, tmp_path_factory) -> tuple[dict, Path]:
    """A paper config run to its summary in a fresh folder; returns (the run's config with the
    schema's defaults, results)."""
    name = request.param
    config = yaml.safe_load((ROOT / f"config/{name}.yaml").read_text())
    workdir = tmp_path_factory.mktemp(name)
    # one of the config's own preferences
    preferences = config["preferences"][len(config["preferences"]) // 2:][:1]
    config["preferences"] = preferences
    # and two prompts of each held-out set
    heldout = [{**spec, "max_prompts": 2} for spec in config["evaluation"]["heldout_sets"]]
    config["evaluation"]["heldout_sets"] = heldout
    chosen = workdir / "preference.yaml"
    chosen.write_text(yaml.safe_dump({"preferences": preferences,
                                      "evaluation": {"heldout_sets": heldout}}))
    with pytest.MonkeyPatch.context() as env:
        for key, value in hub_env.items():
            env.setenv(key, value)
        result = snakemake("--configfile", str(ROOT / f"config/{name}.yaml"), str(SIZES),
                           str(chosen), "--cores", "2", workdir=workdir, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return run_config(ROOT / f"config/{name}.yaml", SIZES, chosen), workdir / "results"


def test_prompts_come_from_the_hub_dataset_in_its_format(paper_run):
    config, results = paper_run
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    assert set(prompts["split"]) >= {"train", "test"}
    if config["prompts"]["source"] == "hh_rlhf":
        # raw transcripts cut at the last assistant turn, as the Llama-2 base model reads them
        assert prompts["prompt"].str.startswith("\n\nHuman:").all()
        assert prompts["prompt"].str.endswith("Assistant:").all()
        assert prompts["prompt"].str.count("\n\nHuman:").max() >= 1  # multi-turn kept whole
        assert set(prompts["category"]) == {"hh-rlhf"}
    else:
        posts = prompts["prompt"].str.split("\n\n", n=1).str[1]
        assert posts.str.len().between(100, 1200).all()  # the loader's filter held
        assert set(prompts["category"]) == {"tldr"}
    train = prompts[prompts["split"] == "train"]
    assert (train["references"].map(len) > 0).all()  # human responses to score offline
    assert (prompts.loc[prompts["split"] == "test", "references"].map(len) == 0).all()


def test_offline_data_is_the_references_scored_by_every_hub_reward_model(paper_run):
    config, results = paper_run
    scored = pd.read_parquet(results / "offline/scored.parquet")
    names = [objective["name"] for objective in config["objectives"]]
    assert len(scored) > 0 and set(scored["source"]) == {"human"}
    values = scored[names].to_numpy()
    assert np.isfinite(values).all()
    # random heads still tell responses apart: a constant column would mean a broken input
    assert (values.std(axis=0) > 0).all()
    assert not (results / "reward_models").exists()  # hub scorers are used, never trained


def test_llama_adapters_are_trained_for_every_preference(paper_run):
    config, results = paper_run
    adapters = sorted(results.glob("paretohqd/seed*/*/stage2/adapter/adapter_config.json"))
    assert len(adapters) == len(config["preferences"])  # one per preference of the run
    for path in adapters:
        adapter = json.loads(path.read_text())
        assert adapter["base_model_name_or_path"] == config["base_model"]["source"]
        assert adapter["peft_type"] == "LORA" and adapter["r"] == 4


def test_summary_grades_every_preference_with_reward_models_and_judges(paper_run):
    config, results = paper_run
    names = [objective["name"] for objective in config["objectives"]]
    front = pd.read_csv(results / "summary/front.csv")
    judged = pd.read_csv(results / "summary/front_judged.csv")
    for table in (front, judged):
        assert set(table["method"]) == {"base", "paretohqd"}
        assert np.isfinite(table[names].to_numpy()).all()
    assert len(front[front["method"] == "paretohqd"]) == len(config["preferences"])
    # the judge is another model than the reward model: its grades differ
    judge = next(iter(config["evaluation"]["judges"]["models"]))
    assert not np.allclose(front[judge], judged[judge])
    metrics = json.loads((results / "summary/metrics.json").read_text())
    assert 0 <= metrics["methods"]["paretohqd"]["hypervolume"] <= 1


def test_the_checks_that_guard_the_tiny_run_hold_on_the_paper_run(paper_run, hub_env, tmp_path):
    """Recomputed from the run's inputs and config: both stages' selections, every answer
    table's adapter, the front, its frame and hypervolumes, the judges' grading, and the score
    tables against a re-scoring by each objective's hub model (in a process of its own that
    reads the stand-in cache: Hugging Face's libraries read its place when imported)."""
    config, results = paper_run
    run = results.parent
    check_selections(run, config, "paretohqd")
    check_evaluated_models(run, config, {"base": None,
                                         "paretohqd": "paretohqd/seed{seed}/{pref}/stage2/adapter"})
    check_front(run, config, {})
    check_judges(run, config)
    (tmp_path / "config.json").write_text(json.dumps(config))
    rescore = subprocess.run(
        [sys.executable, "-c", "import json, sys; from pathlib import Path; "
         "from pipeline_checks import check_scores_rescored; "
         "check_scores_rescored(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), "
         "sample=4)", str(run), str(tmp_path / "config.json")],
        cwd=ROOT, env={**os.environ, **hub_env, "PYTHONPATH": str(ROOT / "tests")},
        capture_output=True, text=True, timeout=600)
    errors = [line for line in rescore.stderr.splitlines() if "%|" not in line]  # no bars
    assert rescore.returncode == 0, "\n".join(errors[-40:])


def test_the_hh_configs_answer_advbench_as_a_held_out_set(paper_run):
    """AdvBench from the hub, written as a one-turn hh-rlhf transcript, answered by every model
    and graded in the test frame; the TL;DR config's empty list replaces the default's set."""
    config, results = paper_run
    if not config["evaluation"]["heldout_sets"]:
        assert not (results / "heldout").exists() and not (results / "summary/heldout").exists()
        return
    prompts = pd.read_parquet(results / "data/heldout/advbench.parquet")
    assert len(prompts) == 2
    assert prompts["prompt"].str.startswith("\n\nHuman: ").all()
    assert prompts["prompt"].str.endswith("\n\nAssistant:").all()
    assert not set(prompts["prompt"]) & set(pd.read_parquet(results / "data/prompts.parquet")[
        "prompt"])
    tested = json.loads((results / "summary/metrics.json").read_text())
    drops = pd.read_csv(results / "summary/heldout/drops.csv")
    assert set(drops["set"]) == {"advbench"}
    assert set(drops["method"]) == set(tested["methods"]) >= {"base", "paretohqd"}
    metrics = json.loads((results / "summary/heldout/advbench/metrics.json").read_text())
    assert metrics["normalisation"] == tested["normalisation"]


@contextmanager
def serving(results: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """``paretohqd serve`` on ``results`` (answers of at most 8 tokens; no API key, which the
    page cannot send), as a user starts it, until the block ends; yields its URL once
    /v1/models answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    env.pop("PARETOHQD_API_KEY", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "paretohqd.serving.cli", "serve", "--results", str(results),
             "--port", str(port), "--dtype", "float32", "--device", "cpu",
             "--max-new-tokens", "8"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/models", timeout=10).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def barycentric(point: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The weights of the triangle's ``corners`` (3 x 2) whose weighted sum is ``point``."""
    return np.linalg.solve(np.vstack([corners.T, np.ones(3)]), np.append(point, 1.0))


# a click's target in the page's triangle, as weights of its corners: near each corner, the
# centroid, and beyond the first corner (outside the triangle: that corner alone)
CLICKS = [(0.8, 0.1, 0.1), (0.1, 0.8, 0.1), (0.1, 0.1, 0.8), (1.05, -0.025, -0.025),
          (1 / 3, 1 / 3, 1 / 3)]
# what the test reads from the page: each click's point, and the body of each request
RECORDER = """
window.clicks = []; window.sent = [];
document.getElementById("triangle").addEventListener(
  "pointerdown", (e) => window.clicks.push([e.clientX, e.clientY]));
const pageFetch = window.fetch;
window.fetch = (url, init) => {
  if (init) window.sent.push(init.body);
  return pageFetch(url, init);
};
"""


@pytest.mark.parametrize("paper_run", ["hh_rlhf_3obj"], indirect=True)  # the 3-objective run
def test_the_page_answers_for_a_point_of_the_triangle(paper_run, hub_env, request, tmp_path):
    """The 3-objective run's page in headless Chromium: the triangle (not the slider) with the
    objectives' names whole at its corners; clicks near each corner, beyond one and at the
    centroid show the click's barycentric weights (to the page's 0.01); the answer for the
    centroid, its realised preference and its three rewards are the server's for the request
    the page sent."""
    config, results = paper_run
    objectives = [objective["name"] for objective in config["objectives"]]
    assert len(objectives) == 3, objectives  # two: a slider, driven in tests/test_serve.py
    driver = request.getfixturevalue("browser")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 300)
    with serving(results, hub_env, tmp_path / "serve.log") as url:
        driver.get(url + "/")
        wait.until(lambda d: d.find_elements(By.ID, "triangle"))
        assert not driver.find_elements(By.ID, "slider")
        triangle = driver.find_element(By.ID, "triangle")
        corners = np.array([[float(v) for v in point.split(",")] for point in
                            triangle.find_element(By.TAG_NAME, "polygon")
                            .get_attribute("points").split()])
        box = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, "
            "r.height];", triangle)
        origin, size = np.array(box[:2]), np.array(box[2:])
        labels = triangle.find_elements(By.TAG_NAME, "text")
        assert [label.text for label in labels] == objectives
        assert [float(label.get_attribute("x")) for label in labels] == list(corners[:, 0])
        for label in labels:  # each name whole, not cut at the picture's edges
            left, top, right, bottom = driver.execute_script(
                "const b = arguments[0].getBBox(); return [b.x, b.y, b.x + b.width, "
                "b.y + b.height];", label)
            assert 0 <= left < right <= size[0] and 0 <= top < bottom <= size[1], label.text
        about = driver.find_element(By.ID, "about").text
        assert f"objectives {objectives[0]}, {objectives[1]} and {objectives[2]}," in about
        driver.execute_script(RECORDER)
        shown = []
        for target in CLICKS:
            offset = np.rint(np.asarray(target) @ corners - size / 2).astype(int)
            ActionChains(driver).move_to_element_with_offset(
                triangle, *map(int, offset)).click().perform()
            clicked = np.array(driver.execute_script("return window.clicks.at(-1);")) - origin
            exact = barycentric(clicked, corners)
            assert exact == pytest.approx(target, abs=0.01)  # within a pixel of the target
            exact = np.clip(exact, 0, None) / np.clip(exact, 0, None).sum()
            text = driver.find_element(By.ID, "weights").text
            names, weights = zip(*(part.split() for part in text.split(", ")))
            weights = np.array(weights, dtype=float)
            assert list(names) == objectives
            assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
            assert weights == pytest.approx(exact, abs=0.01 + 1e-9)
            dot = driver.find_element(By.ID, "dot")
            assert [float(dot.get_attribute(c)) for c in ("cx", "cy")] == pytest.approx(
                weights @ corners)
            shown.append(weights)
        assert shown[3] == pytest.approx([1, 0, 0])  # beyond the first corner: it alone

        driver.find_element(By.ID, "prompt").send_keys("How do I keep my bike from rusting?")
        driver.find_element(By.ID, "send").click()
        wait.until(lambda d: d.find_element(By.ID, "realised").text != "\u2013"
                   or d.find_element(By.ID, "error").text)
        assert driver.find_element(By.ID, "error").text == ""
        sent = json.loads(driver.execute_script("return window.sent.at(-1);"))
        assert sent["preference"] == dict(zip(objectives, shown[-1]))
        # the same request again, straight to the server: the answer the page shows
        reply = urllib.request.Request(f"{url}/v1/chat/completions", json.dumps(sent).encode(),
                                       {"Content-Type": "application/json"})
        with urllib.request.urlopen(reply, timeout=300) as response:
            body = json.load(response)
    page_answer = driver.execute_script("return document.getElementById('answer').textContent;")
    assert page_answer == body["choices"][0]["message"]["content"]
    # one trained preference: it serves every point of the triangle
    ((pref_id, trained),) = Served.load(results).trained_preferences("paretohqd").items()
    assert [body["realised_preference"][o] for o in objectives] == pytest.approx(trained)
    assert driver.find_element(By.ID, "realised").text == ", ".join(
        f"{o} {w:.2f}" for o, w in zip(objectives, trained)) + f" ({pref_id} \u00d7 1.00)"
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "#rewards tbody tr")]
    assert [name for name, _ in rows] == objectives
    rewards = np.array([float(value) for _, value in rows])
    assert np.isfinite(rewards).all()
    assert rewards == pytest.approx([body["rewards"][0][o] for o in objectives], abs=5e-4 + 1e-9)
    shot = Path(os.environ.get("PARETOHQD_SCREENSHOT_3OBJ", tmp_path / "triangle.png"))
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
