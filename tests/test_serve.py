"""``paretohqd serve`` on the tiny run, talked to with the official ``openai`` client: plain,
greedy and streaming answers for two preferences, the realised preference against the
interpolation weights, the rewards, stop sequences, fresh randomness without a seed, the calls
ordinary clients make, bad requests answered with OpenAI's error shape (and the server still
serving), concurrent mixed preferences drawn in one batch, the limits (API key, body size,
queue, disconnects, a failing adapter), and the page driven in headless Chromium (Debian's
chromium and chromium-driver, installed with apt-get as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai
import pytest
import requests
import torch

from paretohqd.rewards.scorers import build_scorer
from paretohqd.serving.interpolation import interpolation_weights
from paretohqd.serving.model_index import Served
from paretohqd.serving.models import merged_model
from paretohqd.policy.generation import load_tokenizer, prompt_tokens, render_prompt
from workflow_runner import ROOT

pytestmark = pytest.mark.e2e

PROMPT = "How do I keep my bike from rusting?"
MAX_TOKENS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def results(tiny_run) -> Path:
    return tiny_run / "results"


def start_server(results: Path, log: Path, *options: str, api_key: str = "unused"):
    """``paretohqd serve`` on ``results`` as a user starts it; (process, url) once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("PARETOHQD_API_KEY", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "paretohqd.serving.cli", "serve", "--results", str(results),
             "--port", str(port), "--dtype", "float32", "--device", "cpu", *options],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0)
    deadline = time.monotonic() + 300
    while True:
        try:
            client.models.list()
            return process, url
        except openai.APIConnectionError:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)


@pytest.fixture(scope="module")
def base_url(results, tmp_path_factory):
    """The server with its defaults (but for a small adapter cache), until the module ends."""
    process, url = start_server(results, tmp_path_factory.mktemp("serve") / "serve.log",
                                "--adapters", "3")
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0,
                         timeout=300)


def ask(client, preference, seed=0, n=1, interpolate=True, **extra):
    options = {key: extra.pop(key) for key in ("temperature", "stop", "messages") if key in extra}
    messages = options.pop("messages", [{"role": "user", "content": PROMPT}])
    return client.chat.completions.create(
        model="paretohqd", messages=messages, n=n, seed=seed, max_tokens=MAX_TOKENS, **options,
        extra_body={"preference": preference, "interpolate": interpolate, **extra})


def greedy(served: Served, chosen: list[dict], messages: list[dict]) -> str:
    """The merged model's greedy answer, by ``generate``."""
    tokenizer = load_tokenizer(chosen[0]["path"])
    text = render_prompt(tokenizer, messages, served.prompt_format)
    tokens = prompt_tokens(tokenizer, [text], served.prompt_format)[0]
    model = merged_model(served.base_model, chosen).eval()
    out = model.generate(torch.tensor([tokens]), max_new_tokens=MAX_TOKENS, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, len(tokens):], skip_special_tokens=True).strip()


def test_models_lists_the_methods_objectives_and_trained_preferences(client, results):
    models = {m.id: m.model_extra for m in client.models.list().data}
    served = Served.load(results)
    assert set(models) == set(served.index["methods"])
    info = models["paretohqd"]
    assert info["objectives"] == ["harmless", "helpful"]
    assert info["preferences"] == [
        w for _, w in sorted(served.trained_preferences("paretohqd").items())]
    assert info["seed"] == served.index["seeds"][0]
    assert client.models.retrieve("paretohqd").model_extra == info
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("nope")
    assert err.value.response.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("preference", [{"harmless": 0.3, "helpful": 0.7}, [0.8, 0.2]])
def test_a_greedy_answer_for_a_preference_is_the_interpolated_merged_models(
        client, results, preference):
    messages = [{"role": "developer", "content": "Answer briefly."},
                {"role": "user", "content": PROMPT}]
    response = ask(client, preference, temperature=0, messages=messages)
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
    # the served mix of adapters answers as the merged model does (developer = system)
    _, chosen = served.choose(weights, "paretohqd", None, interpolate=True)
    as_system = [{**messages[0], "role": "system"}, messages[1]]
    assert response.choices[0].message.content == greedy(served, chosen, as_system)
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


def test_without_a_seed_each_answer_is_fresh_and_its_seed_reproduces_it(client):
    def unseeded():
        return client.chat.completions.create(
            model="paretohqd", messages=[{"role": "user", "content": PROMPT}], n=2,
            max_tokens=MAX_TOKENS, extra_body={"preference": [0.5, 0.5]})

    first, second = unseeded(), unseeded()
    assert first.model_extra["seed"] != second.model_extra["seed"]
    texts = [[c.message.content for c in r.choices] for r in (first, second)]
    assert texts[0] != texts[1]
    again = ask(client, [0.5, 0.5], seed=first.model_extra["seed"], n=2, interpolate=False)
    assert [c.message.content for c in again.choices] == texts[0]


def test_streaming_gives_the_plain_answers_delta_by_delta(client):
    plain = ask(client, [0.4, 0.6], seed=9, n=2)
    stream = client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], n=2, seed=9,
        max_tokens=MAX_TOKENS, stream=True, stream_options={"include_usage": True},
        extra_body={"preference": [0.4, 0.6], "interpolate": True})
    texts, finish, usage, extension = ["", ""], [None, None], None, {}
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            finish[choice.index] = choice.finish_reason or finish[choice.index]
        usage = chunk.usage or usage
        extension.update(chunk.model_extra or {})
    assert texts == [c.message.content for c in plain.choices]
    assert finish == [c.finish_reason for c in plain.choices]
    assert extension["realised_preference"] == plain.model_extra["realised_preference"]
    assert usage.completion_tokens == plain.usage.completion_tokens


def test_the_usual_streaming_loop_reads_every_chunk(client):
    # without stream_options every chunk has a choice: the loop that most clients write
    stream = client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], seed=4,
        max_tokens=MAX_TOKENS, stream=True, extra_body={"preference": [0.5, 0.5]})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == ask(client, [0.5, 0.5], seed=4, interpolate=False).choices[0].message.content


def test_a_stop_sequence_ends_the_answer_before_it(client):
    full = ask(client, [0.5, 0.5], seed=3, temperature=0).choices[0].message.content
    words = full.split()
    assert len(words) >= 3, full
    stop = " " + words[2]
    cut = ask(client, [0.5, 0.5], seed=3, temperature=0, stop=[stop, "\u2603"])
    assert cut.choices[0].message.content == full[:full.index(stop)].strip()
    assert cut.choices[0].finish_reason == "stop"


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
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role", "developer"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4"),
    ({"seed": 2**64}, "seed", "less than"),
    ({"n": 17}, "n", "at most 16"),
    ({"max_tokens": 5000}, "max_tokens", "at most 1024"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "not supported"),
    ({"logprobs": True}, "logprobs", "not supported"),
    ({"temperature": 2.5}, "temperature", "less than or equal to 2"),
]


@pytest.mark.parametrize("change,param,words", BAD_REQUESTS,
                         ids=[f"{p}-{i}" for i, (_, p, _) in enumerate(BAD_REQUESTS)])
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


def metric(base_url: str, name: str) -> float:
    """A sample's value from /metrics (0 when absent)."""
    for line in requests.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_concurrent_mixed_preferences_are_drawn_together(client, base_url):
    preferences = [[1.0, 0.0], [0.25, 0.75], [0.6, 0.4], [0.0, 1.0], [0.9, 0.1], [0.5, 0.5]]
    single = metric(base_url, 'paretohqd_batch_rows_per_step_bucket{le="1.0"}')
    steps = metric(base_url, "paretohqd_batch_rows_per_step_count")

    def one(preference):
        return ask(client, preference, seed=1)

    with ThreadPoolExecutor(len(preferences)) as pool:
        responses = list(pool.map(one, preferences))
    for preference, response in zip(preferences, responses):
        reached = response.model_extra["realised_preference"]
        assert [reached["harmless"], reached["helpful"]] == pytest.approx(preference)
        assert response.choices[0].message.content is not None
    # some steps drew several of these requests' answers at once
    new_steps = metric(base_url, "paretohqd_batch_rows_per_step_count") - steps
    new_single = metric(base_url, 'paretohqd_batch_rows_per_step_bucket{le="1.0"}') - single
    assert new_steps > new_single
    health = requests.get(f"{base_url}/health").json()
    assert health["status"] == "ok" and health["size"] <= health["max_size"] == 3


@pytest.fixture(scope="module")
def limited(results, tmp_path_factory):
    """A server on a copy of the run, with an API key and small limits: (url, results)."""
    copy = tmp_path_factory.mktemp("limited") / "results"
    shutil.copytree(results, copy, symlinks=True)
    process, url = start_server(copy, copy.parent / "serve.log", "--api-key", "s3cret",
                                "--max-queue", "1", "--max-batch-rows", "1",
                                "--max-body-bytes", "4096", "--limit-n", "2",
                                "--adapters", "1", api_key="s3cret")
    yield url, copy
    process.terminate()
    process.wait(timeout=30)


def test_the_api_key_is_required_where_set(limited):
    url, _ = limited
    anonymous = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        anonymous.models.list()
    assert err.value.response.json()["error"]["code"] == "invalid_api_key"
    assert requests.get(f"{url}/metrics").status_code == 401
    assert requests.get(f"{url}/health").json()["auth"] is True


def test_a_body_over_the_cap_is_refused_unread(limited):
    url, _ = limited
    keyed = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
    with pytest.raises(openai.APIStatusError) as err:
        keyed.chat.completions.create(model="paretohqd", max_tokens=2,
                                      messages=[{"role": "user", "content": "x" * 5000}])
    assert err.value.status_code == 413
    assert err.value.response.json()["error"]["param"] == "body"


def test_a_full_queue_answers_429_and_a_gone_client_stops_its_generation(limited):
    url, _ = limited
    keyed = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0, timeout=300)
    headers = {"Authorization": "Bearer s3cret"}

    def long_request():
        return keyed.chat.completions.create(
            model="paretohqd", messages=[{"role": "user", "content": PROMPT}], max_tokens=200,
            n=1, seed=0, extra_body={"preference": [0.5, 0.5]})

    # one request runs (one row per batch), one waits; the rest find the queue full
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(long_request) for _ in range(6)]
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result().choices[0].finish_reason)
            except openai.RateLimitError as err:
                assert err.response.json()["error"]["code"] == "queue_full"
                outcomes.append("429")
    assert "429" in outcomes and any(o in ("stop", "length") for o in outcomes)

    # a stream waits behind a running request; its client reads the first chunk and leaves
    cancelled = metric_with(url, headers, 'paretohqd_requests_total{status="cancelled"}')
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(keyed.chat.completions.create, model="paretohqd", n=2,
                              messages=[{"role": "user", "content": PROMPT}], max_tokens=200,
                              extra_body={"preference": [0.5, 0.5]})
        while requests.get(f"{url}/health").json()["batch_rows"] == 0 and not running.done():
            time.sleep(0.01)
        with requests.post(f"{url}/v1/chat/completions", headers=headers, timeout=300,
                           stream=True, json={"model": "paretohqd", "stream": True,
                                              "max_tokens": 200, "messages": [
                                                  {"role": "user", "content": PROMPT}]}) as stream:
            assert next(stream.iter_lines()).startswith(b"data: ")
        assert running.result().choices[0].finish_reason in ("stop", "length")
    deadline = time.monotonic() + 60
    while metric_with(url, headers, 'paretohqd_requests_total{status="cancelled"}') == cancelled:
        assert time.monotonic() < deadline, "the abandoned stream was not cancelled"
        time.sleep(0.5)
    assert requests.get(f"{url}/health").json()["queue_depth"] == 0


def metric_with(url: str, headers: dict, name: str) -> float:
    for line in requests.get(f"{url}/metrics", headers=headers).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_a_failure_inside_the_server_is_a_500_in_openais_shape(limited):
    url, results = limited
    keyed = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0, timeout=300)

    def harmless_or_helpful(preference):
        return keyed.chat.completions.create(
            model="paretohqd", messages=[{"role": "user", "content": PROMPT}], max_tokens=2,
            extra_body={"preference": preference})

    harmless_or_helpful([1.0, 0.0])  # the server holds one adapter (--adapters 1): this one
    _, chosen = Served.load(results).choose([0.0, 1.0], "paretohqd", None, interpolate=False)
    shutil.rmtree(chosen[0]["path"])  # the other adapter, removed under the running server
    with pytest.raises(openai.InternalServerError) as err:
        harmless_or_helpful([0.0, 1.0])
    error = err.value.response.json()["error"]
    assert err.value.status_code == 500 and error["type"] == "server_error"
    assert error["message"].startswith("server error:")
    # the held preference is still served
    assert harmless_or_helpful([1.0, 0.0]).choices[0].message.content is not None


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
