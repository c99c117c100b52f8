"""``paretohqd serve`` on the tiny run, talked to with the official ``openai`` client: plain and
streaming answers for two preferences, the realised preference against the interpolation
weights, the rewards, bad requests answered with OpenAI's error shape (and the server still
serving), concurrent requests equal to the same requests one at a time, and the page driven in
headless Chromium (Debian's chromium and chromium-driver, installed with apt-get as root)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai
import pytest
import torch

from paretohqd.policy.generation import SamplingSettings
from paretohqd.rewards.scorers import build_scorer
from paretohqd.serving.interpolation import interpolation_weights
from paretohqd.serving.model_index import Served
from paretohqd.serving.models import answer
from workflow_runner import ROOT

pytestmark = pytest.mark.e2e

PROMPT = "How do I keep my bike from rusting?"
MAX_TOKENS = 8
TEMPERATURE, TOP_P = 1.0, 0.9  # the server's defaults (the CLI's)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def results(tiny_run) -> Path:
    return tiny_run / "results"


@pytest.fixture(scope="module")
def base_url(results, tmp_path_factory):
    """``paretohqd serve`` on the tiny run, as a user starts it, until the module ends."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "paretohqd.serving.cli", "serve", "--results", str(results),
             "--port", str(port), "--dtype", "float32", "--device", "cpu",
             "--cache-size", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    deadline = time.monotonic() + 300
    while True:
        try:
            client.models.list()
            break
        except openai.APIConnectionError:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0,
                         timeout=300)


def ask(client, preference, seed=0, n=1, interpolate=True, **extra):
    return client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], n=n, seed=seed,
        max_tokens=MAX_TOKENS, extra_body={"preference": preference, "interpolate": interpolate,
                                           **extra})


def test_models_lists_the_methods_objectives_and_trained_preferences(client, results):
    models = {m.id: m.model_extra for m in client.models.list().data}
    served = Served.load(results)
    assert set(models) == set(served.index["methods"])
    info = models["paretohqd"]
    assert info["objectives"] == ["harmless", "helpful"]
    assert info["preferences"] == [
        w for _, w in sorted(served.trained_preferences("paretohqd").items())]
    assert info["seed"] == served.index["seeds"][0]


@pytest.mark.parametrize("preference", [{"harmless": 0.3, "helpful": 0.7}, [0.8, 0.2]])
def test_an_answer_for_a_preference_is_the_interpolated_models_and_the_clis(
        client, results, preference):
    response = ask(client, preference, seed=5)
    weights = list(preference.values()) if isinstance(preference, dict) else preference
    served = Served.load(results)
    trained = served.trained_preferences("paretohqd")
    expected = dict(interpolation_weights(weights, trained))
    extra = response.model_extra
    assert {a["pref_id"]: a["merge_weight"] for a in extra["adapters"]} == pytest.approx(expected)
    # the merge reaches the asked preference: the weights of the trained preferences, mixed
    reached = sum(w * np.asarray(trained[pid]) for pid, w in expected.items())
    assert reached == pytest.approx(weights)
    assert [extra["realised_preference"][o] for o in ("harmless", "helpful")] == \
        pytest.approx(weights)
    # the same model and seed as `paretohqd generate --interpolate --sampling-seed 5`
    _, chosen = served.choose(weights, "paretohqd", None, interpolate=True)
    settings = SamplingSettings(TEMPERATURE, TOP_P, MAX_TOKENS, batch_size=8, seed=5)
    cli_answer = answer(served.base_model, chosen, [PROMPT], settings, served.prompt_format,
                        torch.device("cpu"), torch.float32)[0]
    assert response.choices[0].message.content == cli_answer
    assert response.choices[0].finish_reason in ("stop", "length")
    assert 0 < response.usage.completion_tokens <= MAX_TOKENS


def test_two_preferences_answer_differently_and_nearest_is_the_default(client):
    harmless = ask(client, [1.0, 0.0], seed=1, n=2)
    helpful = ask(client, [0.0, 1.0], seed=1, n=2)
    assert [c.message.content for c in harmless.choices] != \
        [c.message.content for c in helpful.choices]
    nearest = ask(client, [0.7, 0.3], interpolate=False)
    assert nearest.model_extra["realised_preference"] == {"harmless": 1.0, "helpful": 0.0}
    assert [a["merge_weight"] for a in nearest.model_extra["adapters"]] == [1.0]


def test_streaming_gives_the_plain_answers_delta_by_delta(client):
    plain = ask(client, [0.4, 0.6], seed=9, n=2)
    stream = client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], n=2, seed=9,
        max_tokens=MAX_TOKENS, stream=True, stream_options={"include_usage": True},
        extra_body={"preference": [0.4, 0.6], "interpolate": True})
    texts, finish, last = ["", ""], [None, None], None
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            finish[choice.index] = choice.finish_reason or finish[choice.index]
        last = chunk
    assert texts == [c.message.content for c in plain.choices]
    assert finish == [c.finish_reason for c in plain.choices]
    assert last.model_extra["realised_preference"] == plain.model_extra["realised_preference"]
    assert last.usage.completion_tokens == plain.usage.completion_tokens


def test_rewards_are_the_runs_reward_models_scores(client, results):
    response = ask(client, [0.5, 0.5], seed=2, n=2, score=True)
    served = Served.load(results)
    texts = [c.message.content for c in response.choices]
    for name, spec in served.scorers().items():
        scorer = build_scorer(spec, torch.device("cpu"), served.scoring_max_length)
        expected = scorer.score([PROMPT] * 2, texts)
        assert [r[name] for r in response.model_extra["rewards"]] == pytest.approx(
            expected, abs=1e-5)


BAD_REQUESTS = [
    ({"extra_body": {"preference": [0.2, 0.3, 0.5]}}, "preference", "3 entries"),
    ({"extra_body": {"preference": [0.7, 0.7]}}, "preference", "sum to 1.4"),
    ({"extra_body": {"preference": {"harmless": 1.0, "funny": 0.0}}}, "preference", "funny"),
    ({"model": "nope"}, "model", "unknown method 'nope'"),
    ({"messages": [{"role": "user", "content": "word " * 9000}]}, "messages", "context"),
    ({"stop": ["\n"]}, "stop", "not supported"),
    ({"temperature": 0}, "temperature", "greater than 0"),
    ({"n": 0}, "n", "greater than or equal to 1"),
]


@pytest.mark.parametrize("change,param,words", BAD_REQUESTS,
                         ids=[p for _, p, _ in BAD_REQUESTS])
def test_bad_requests_get_openais_error_naming_the_field(client, change, param, words):
    request = {"model": "paretohqd", "messages": [{"role": "user", "content": PROMPT}],
               "max_tokens": MAX_TOKENS, **change}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**request)
    assert err.value.status_code == 400
    error = err.value.response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"{param}:") and words in error["message"]
    # and the server goes on answering
    assert ask(client, [0.5, 0.5]).choices[0].message.content is not None


def test_concurrent_requests_equal_the_same_requests_one_at_a_time(client):
    asks = [(pref, seed) for pref in ([1.0, 0.0], [0.25, 0.75]) for seed in (0, 1)]

    def one(args):
        pref, seed = args
        return ask(client, pref, seed=seed).choices[0].message.content

    alone = [one(args) for args in asks]
    with ThreadPoolExecutor(len(asks)) as pool:
        together = list(pool.map(one, asks))
    assert together == alone


# ---- the page, in headless Chromium ---------------------------------------------------------
from headless_browser import browser  # noqa: E402,F401  (the fixture of the test below)


def test_the_page_answers_for_the_slider_preference(browser, base_url, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    browser.get(base_url + "/")
    wait.until(lambda d: d.find_element(By.ID, "method").get_attribute("value") == "paretohqd")
    browser.find_element(By.ID, "prompt").send_keys(PROMPT)
    slider = browser.find_element(By.ID, "slider")
    slider.send_keys(Keys.HOME)  # all weight on harmless
    for _ in range(6):
        slider.send_keys(Keys.ARROW_RIGHT)  # 6 steps of 5%: helpful 0.30
    assert browser.find_element(By.ID, "weights").text == "harmless 0.70, helpful 0.30"
    browser.find_element(By.ID, "interpolate").click()
    browser.find_element(By.ID, "send").click()
    wait.until(lambda d: d.find_element(By.ID, "realised").text.startswith("harmless"))
    assert browser.find_element(By.ID, "error").text == ""
    assert browser.find_element(By.ID, "realised").text.startswith("harmless 0.70, helpful 0.30")
    rows = browser.find_elements(By.CSS_SELECTOR, "#rewards tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == ["harmless", "helpful"]
    assert all(np.isfinite(float(r.find_elements(By.TAG_NAME, "td")[1].text)) for r in rows)
    shot = Path(os.environ.get("PARETOHQD_SCREENSHOT", tmp_path / "page.png"))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
