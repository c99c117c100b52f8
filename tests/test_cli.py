"""The `paretohqd` command line: its pieces by hand, then every command on the tiny run."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from paretohqd.serving.cli import UsageError, _choice, build_parser, front_report, main, read_prompts
from paretohqd.serving.model_index import INDEX, build_index
from workflow_runner import ROOT

COMMANDS = ("generate", "front", "export", "serve", "export-lora")


def cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m paretohqd.serving.cli args...`` with this checkout's package, offline."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "paretohqd.serving.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: paretohqd")
    if command:
        assert "--results" in out


def test_read_prompts_from_arguments_file_or_stdin(tmp_path):
    assert read_prompts(["a", " b "], None, io.StringIO()) == ["a", "b"]
    path = tmp_path / "prompts.txt"
    path.write_text("first\n\nsecond\n")
    assert read_prompts([], str(path), io.StringIO()) == ["first", "second"]
    assert read_prompts([], None, io.StringIO("x\ny\n")) == ["x", "y"]
    with pytest.raises(UsageError, match="not both"):
        read_prompts(["a"], str(path), io.StringIO())
    with pytest.raises(UsageError, match="--prompts-file nowhere.txt: file not found"):
        read_prompts([], "nowhere.txt", io.StringIO())
    with pytest.raises(UsageError, match="no prompts"):
        read_prompts([], None, io.StringIO("\n"))


def test_front_report_intervals_and_hypervolumes():
    front = pd.DataFrame({"method": ["base", "paretohqd"], "pref_id": ["none", "p030_070"],
                          "w_a": [float("nan"), 0.3], "w_b": [float("nan"), 0.7],
                          "a": [0.5, 0.6], "b": [0.25, 0.4], "se_a": [0.1, 0.0],
                          "se_b": [0.0, 0.05]})
    metrics = {"objectives": ["a", "b"], "bootstrap": {"level": 0.95},
               "methods": {"base": {"hypervolume": 0.125, "hypervolume_ci": [0.1, 0.15]},
                           "paretohqd": {"hypervolume": 0.24, "hypervolume_ci": [0.2, 0.3]}}}
    report = front_report(front, metrics)
    assert "0.500 [0.304, 0.696]" in report  # 0.5 +- 1.96 * 0.1
    assert "0.400 [0.302, 0.498]" in report
    assert "0.3,0.7" in report and " none " in report
    assert "0.2400" in report and "[0.2000, 0.3000]" in report and "95% CI" in report


def test_missing_results_say_to_run_the_workflow(tmp_path, capsys):
    assert main(["front", "--results", str(tmp_path)]) == 2
    assert "run the workflow first" in capsys.readouterr().err
    assert main(["generate", "--results", str(tmp_path), "--preference", "0.5,0.5", "hi"]) == 2
    err = capsys.readouterr().err
    assert "models/index.json: not found; run the workflow first" in err


def test_export_refuses_a_non_empty_target(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out/keep.txt").write_text("mine")
    code = main(["export", "--results", str(tmp_path), "--preference", "0.5,0.5",
                 "--merged", str(tmp_path / "out")])
    assert code == 2 and "exists and is not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "out/keep.txt").read_text() == "mine"


def index_only_run(results: Path, objectives: list[str], trained: dict[str, list[float]],
                   seeds: tuple[int, ...] = (1,)) -> str:
    """A results folder holding only a model index (``build_index``, as the workflow writes
    it) of one method, ``paretohqd``: enough for what the CLI does before loading a model."""
    index = build_index("no-such-base-model", "chat", objectives, seeds,
                        {"paretohqd": ("results/paretohqd/seed{seed}/{pref}/adapter", trained)})
    (results / INDEX).parent.mkdir(parents=True)
    (results / INDEX).write_text(json.dumps(index))
    return str(results)


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note:")]


def choose(*args: str):
    """The CLI's choice of seed and adapters for ``generate args...``."""
    _, _, seed, chosen = _choice(build_parser().parse_args(["generate", *args, "hi"]))
    return seed, chosen


def test_stderr_notes_the_preference_a_nearest_adapter_or_merge_stands_for(tmp_path, capsys):
    # three objectives, two trained preferences: 0.5,0.25,0.25 is outside their hull
    results = index_only_run(tmp_path, ["a", "b", "c"], {"pa": [1, 0, 0], "pb": [0, 1, 0]})
    asked = ["--results", results, "--preference", "0.5,0.25,0.25"]
    seed, chosen = choose(*asked)
    assert [a["pref_id"] for a in chosen] == ["pa"]
    assert notes(capsys.readouterr().err) == [
        "note: preference 0.5,0.25,0.25 is served by the nearest trained preference 1,0,0"]
    # the nearest point of the segment (l, 1 - l, 0), by hand: l = 5/8
    seed, chosen = choose(*asked, "--interpolate")
    assert {a["pref_id"]: a["merge_weight"] for a in chosen} == pytest.approx(
        {"pa": 5 / 8, "pb": 3 / 8})
    assert notes(capsys.readouterr().err) == [
        "note: preference 0.5,0.25,0.25 is served by the merge 0.625,0.375,0"]
    # what is served is what was asked: no note
    choose("--results", results, "--preference", "0,1,0")
    choose("--results", results, "--preference", "0,1,0", "--interpolate")
    assert notes(capsys.readouterr().err) == []

    two = index_only_run(tmp_path / "two", ["a", "b"], {"p0": [0, 1], "p1": [1, 0]})
    seed, chosen = choose("--results", two, "--preference", "0.3,0.7", "--interpolate")
    assert {a["pref_id"]: a["merge_weight"] for a in chosen} == pytest.approx(
        {"p0": 0.7, "p1": 0.3})
    assert notes(capsys.readouterr().err) == []  # two objectives: the merge is exact
    choose("--results", two, "--preference", "0.3,0.7")
    assert notes(capsys.readouterr().err) == [
        "note: preference 0.3,0.7 is served by the nearest trained preference 0,1"]


def test_seed_picks_that_training_seeds_adapters(tmp_path, capsys):
    results = index_only_run(tmp_path, ["a", "b"], {"p0": [0, 1], "p1": [1, 0]}, seeds=(1, 2))
    for flags, seed in [((), 1), (("--seed", "1"), 1), (("--seed", "2"), 2)]:
        used, chosen = choose("--results", results, "--preference", "0.3,0.7", *flags)
        assert used == seed
        assert [Path(a["path"]) for a in chosen] == [
            tmp_path / f"paretohqd/seed{seed}/p0/adapter"]
    assert main(["generate", "--results", results, "--preference", "0.3,0.7", "--seed", "3",
                 "hi"]) == 2
    assert "seed 3: not a training seed of this run; it has [1, 2]" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, message", [
    ("--temperature", "0", "--temperature 0: must be > 0"),
    ("--top-p", "0", "--top-p 0: must be > 0 and <= 1"),
    ("--top-p", "1.5", "--top-p 1.5: must be > 0 and <= 1"),
    ("--max-new-tokens", "0", "--max-new-tokens 0: must be >= 1"),
    ("--batch-size", "0", "--batch-size 0: must be >= 1")])
def test_unusable_sampling_options_fail_naming_them(tmp_path, capsys, flag, value, message):
    results = index_only_run(tmp_path, ["a", "b"], {"p0": [0, 1], "p1": [1, 0]})
    assert main(["generate", "--results", results, "--preference", "0,1", flag, value,
                 "hi"]) == 2
    assert f"paretohqd generate: error: {message}" in capsys.readouterr().err


# ---- on the tiny run's results -------------------------------------------------------------
FAST = ["--max-new-tokens", "4", "--device", "cpu", "--dtype", "float32"]


@pytest.mark.e2e
def test_model_index_of_the_tiny_run(tiny_run):
    index = json.loads((tiny_run / "results/models/index.json").read_text())
    assert index["base_model"] == {"path": "models/base", "in_results": True}
    assert index["objectives"] == ["harmless", "helpful"] and index["seeds"] == [42]
    # per-preference adapters only: not the shared sft model, not RiC's conditioned one
    assert {"paretohqd", "paretohqd_stage1", "rewarded_soups", "modpo"} <= set(index["methods"])
    assert not {"sft", "ric", "base"} & set(index["methods"])
    for entry in index["methods"]["paretohqd"]:
        assert (tiny_run / "results" / entry["adapter"] / "adapter_config.json").is_file()


@pytest.mark.e2e
def test_front_prints_methods_and_hypervolumes(tiny_run):
    result = cli("front", "--results", str(tiny_run / "results"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["paretohqd", "0,1"] for line in lines)
    assert any(line.split()[:2] == ["base", "none"] for line in lines)
    assert "hypervolume" in result.stdout and "95% CI" in result.stdout
    assert any(line.split()[:1] == ["paretohqd"] and len(line.split()) == 4 for line in lines)


def run_main(capsys, *args: str) -> tuple[str, str]:
    """stdout and stderr of ``paretohqd args...`` run in-process (the models load faster than
    in a new interpreter); it must succeed."""
    capsys.readouterr()
    assert main(list(args)) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.mark.e2e
def test_generate_text_jsonl_stdin_and_interpolation(tiny_run, capsys, monkeypatch):
    results = str(tiny_run / "results")
    out, err = run_main(capsys, "generate", "--results", results, "--preference", "0.3,0.7",
                        *FAST, "Hello there", "What is the capital of France?")
    assert out.count("\n") >= 2
    # the tiny run trained 0,1 and 1,0 only
    assert notes(err) == ["note: preference 0.3,0.7 is served by the nearest trained preference 0,1"]

    monkeypatch.setattr(sys, "stdin", io.StringIO("first prompt\nsecond prompt\n"))
    out, _ = run_main(capsys, "generate", "--results", results, "--preference", "0.3,0.7",
                      "--format", "jsonl", *FAST)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["prompt"] for r in records] == ["first prompt", "second prompt"]
    for record in records:
        assert record["preference"] == [0.3, 0.7] and record["method"] == "paretohqd"
        assert record["seed"] == 42
        assert [(a["pref_id"], a["merge_weight"]) for a in record["adapters"]] == [
            ("p000_100", 1.0)]
        assert record["adapters"][0]["path"].endswith("paretohqd/seed42/p000_100/stage2/adapter")
        assert isinstance(record["answer"], str)

    out, err = run_main(capsys, "generate", "--results", results, "--preference", "0.3,0.7",
                        "--format", "jsonl", "--interpolate", *FAST, "Hello there")
    assert notes(err) == []  # two objectives: the merge stands for 0.3,0.7 exactly
    (record,) = [json.loads(line) for line in out.splitlines()]
    used = {a["pref_id"]: a["merge_weight"] for a in record["adapters"]}
    assert used == pytest.approx({"p000_100": 0.7, "p100_000": 0.3})


@pytest.mark.e2e
def test_bad_preference_or_method_fails_naming_it(tiny_run):
    results = str(tiny_run / "results")
    bad = cli("generate", "--results", results, "--preference", "0.5,0.6", "hi")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "preference 0.5,0.6: entries sum to 1.1" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = cli("export", "--results", results, "--preference", "0.5,0.5", "--method", "dpo",
                  "--merged", str(tiny_run / "never"))
    assert unknown.returncode == 2 and "method 'dpo': not in" in unknown.stderr
    assert not (tiny_run / "never").exists()


# enough sampling to tell flags apart: three prompts, 12 tokens each (36 draws)
PROMPTS = ["Give me three tips for sleeping well.", "Write a short poem about the sea.",
           "Explain what a CPU does in one paragraph."]
MAX_NEW = 12
LONG = ["--max-new-tokens", str(MAX_NEW), "--device", "cpu", "--dtype", "float32", "--format",
        "jsonl"]


def generated(capsys, results: str, *args: str) -> list[str]:
    """The answers to PROMPTS of ``paretohqd generate`` (in-process) with ``args``."""
    out, _ = run_main(capsys, "generate", "--results", results, *args, *LONG, *PROMPTS)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["prompt"] for r in records] == PROMPTS
    return [r["answer"] for r in records]


def greedy(results: str, adapter: str, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy answers (``generate(do_sample=False)``, one prompt at a time) of the base model
    with ``adapter`` merged by PEFT's own ``merge_and_unload``."""
    import torch

    from paretohqd.policy.generation import CHAT, load_policy, render_prompt
    from paretohqd.serving.model_index import Served

    served = Served.load(results)
    policy, tokenizer = load_policy(served.base_model, torch.device("cpu"), torch.float32,
                                    adapter)
    answers = []
    for prompt in prompts:
        enc = tokenizer(render_prompt(tokenizer, prompt, served.prompt_format),
                        add_special_tokens=served.prompt_format != CHAT, return_tensors="pt")
        out = policy.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                              pad_token_id=tokenizer.pad_token_id)
        answers.append(tokenizer.decode(out[0, enc["input_ids"].shape[1]:],
                                        skip_special_tokens=True).strip())
    return answers


@pytest.mark.e2e
def test_sampling_seed_temperature_and_top_p_reach_generation(tiny_run, capsys):
    results = str(tiny_run / "results")
    pref = ["--preference", "0,1"]  # trained: the adapter p000_100 alone
    first = generated(capsys, results, *pref, "--sampling-seed", "1")
    assert generated(capsys, results, *pref, "--sampling-seed", "1") == first
    assert generated(capsys, results, *pref, "--sampling-seed", "2") != first

    adapter = str(tiny_run / "results/paretohqd/seed42/p000_100/stage2/adapter")
    best = greedy(results, adapter, PROMPTS, MAX_NEW)
    assert first != best  # the default (temperature 1, top-p 0.9) samples
    # a temperature near 0, or a nucleus of one token, is the greedy answer
    assert generated(capsys, results, *pref, "--sampling-seed", "1", "--temperature", "1e-5",
                     "--top-p", "1") == best
    assert generated(capsys, results, *pref, "--sampling-seed", "1", "--temperature", "1",
                     "--top-p", "1e-6") == best


@pytest.mark.e2e
def test_export_merges_the_adapters_into_the_weights(tiny_run, tmp_path, capsys):
    """The exported folder is a stand-alone model (no adapter, the tokenizer with its chat
    template) whose weights are the base model's plus the merge-weighted LoRA updates (checked
    against PEFT's ``merge_and_unload`` of each adapter); it answers like ``generate``; a second
    export to the same folder is refused."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paretohqd.policy.generation import SamplingSettings, load_tokenizer, sample_responses
    from paretohqd.serving.model_index import Served

    results = str(tiny_run / "results")
    out = tmp_path / "merged"
    assert main(["export", "--results", results, "--preference", "0.3,0.7", "--interpolate",
                 "--merged", str(out)]) == 0
    assert not (out / "adapter_config.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    info = json.loads((out / "paretohqd_export.json").read_text())
    weights = {a["pref_id"]: a["merge_weight"] for a in info["adapters"]}
    assert weights == pytest.approx({"p000_100": 0.7, "p100_000": 0.3})
    assert AutoTokenizer.from_pretrained(out).chat_template

    exported = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    assert type(exported).__name__ == "LlamaForCausalLM"
    assert exported.num_parameters() > 1e8  # SmolLM2-135M
    assert not any("lora" in name for name, _ in exported.named_parameters())
    got = exported.state_dict()

    base_model = Served.load(results).base_model

    def base() -> torch.nn.Module:
        return AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)

    original = base().state_dict()
    # base + sum_i w_i delta_i = sum_i w_i (base + delta_i), as the weights sum to 1
    expected = {name: torch.zeros_like(value) for name, value in original.items()}
    targets = set()
    for adapter in info["adapters"]:
        config = json.loads((Path(adapter["path"]) / "adapter_config.json").read_text())
        targets |= set(config["target_modules"])
        merged = PeftModel.from_pretrained(base(), adapter["path"]).merge_and_unload()
        for name, value in merged.state_dict().items():
            expected[name] += adapter["merge_weight"] * value
        del merged
    assert set(got) == set(expected)
    lora_layers = [name for name in got
                   if name.endswith(".weight") and name.split(".")[-2] in targets]
    assert lora_layers
    for name in lora_layers:
        assert not torch.equal(got[name], original[name]), f"{name}: the base's weights"
    for name, value in got.items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-5, msg=name)
        if name not in lora_layers:
            assert torch.equal(value, original[name]), name

    # the exported model answers like generate does, for the same sampling seed
    served = generated(capsys, results, "--preference", "0.3,0.7", "--interpolate",
                       "--sampling-seed", "5")
    settings = SamplingSettings(temperature=1.0, top_p=0.9, max_new_tokens=MAX_NEW,
                                batch_size=8, seed=5)
    alone = sample_responses(exported.eval(), load_tokenizer(str(out)), PROMPTS, 1, settings,
                             Served.load(results).prompt_format)
    assert [samples[0] for samples in alone] == served

    assert main(["export", "--results", results, "--preference", "0.5,0.5", "--merged",
                 str(out)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err


@pytest.mark.e2e
def test_export_lora_grid_is_the_servers_mix_as_plain_adapters(tiny_run, tmp_path):
    """An interpolated grid of 11 preferences as LoRA adapters for vLLM: the tiny run's
    trained 0,1 and 1,0 at the ends (rank 4), merges of both (rank 8) between; each loads
    with PEFT and equals the server's mix in every LoRA update, and in the logits for an end
    and two merges (``test_lora_export.check_export``; each merged_model takes seconds)."""
    from paretohqd.serving.model_index import Served
    from test_lora_export import check_export

    results = str(tiny_run / "results")
    out = tmp_path / "lora"
    assert main(["export-lora", "--results", results, "--grid", "11", "--interpolate",
                 "--out", str(out)]) == 0
    base_model = Served.load(results).base_model
    manifest = check_export(out, base_model, logits_of={"paretohqd-p000_100",
                                                        "paretohqd-p030_070",
                                                        "paretohqd-p050_050"})
    assert manifest["base_model"] == str(Path(base_model).resolve())  # the run's own base
    entries = manifest["adapters"]
    names = [f"paretohqd-p{10 * k:03d}_{100 - 10 * k:03d}" for k in range(11)]
    assert [e["name"] for e in entries] == names
    for k, entry in enumerate(entries):
        assert entry["preference"] == entry["realised_preference"] == pytest.approx(
            [k / 10, 1 - k / 10])
        weights = {a["pref_id"]: a["merge_weight"] for a in entry["merged"]}
        expected = {"p000_100": 1 - k / 10, "p100_000": k / 10}
        assert weights == pytest.approx({pid: w for pid, w in expected.items() if w > 0})
        assert entry["rank"] == (4 if k in (0, 10) else 8)
    assert (manifest["max_rank"], manifest["vllm_max_lora_rank"]) == (8, 8)
    modules = [f"{name}={out / name}" for name in names]
    assert (out / "vllm_lora_modules.txt").read_text().split() == ["--lora-modules", *modules]


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["new", "empty folder", "in new folders"])
def test_a_failed_export_leaves_nothing_behind(tiny_run, tmp_path, monkeypatch, target):
    """The export fails after the weights were written (the tokenizer's save writes a file,
    then the disk is full): the target is as it was (absent, an empty folder; folders made
    for it are removed), and no temporary folder is left."""
    from transformers import AutoTokenizer

    results = tiny_run / "results"
    adapter = results / "paretohqd/seed42/p000_100/stage2/adapter"  # the nearest to 0.3,0.7
    tokenizer = type(AutoTokenizer.from_pretrained(adapter))  # the class export saves with
    written = []

    def disk_full(self, save_directory, *args, **kwargs):
        folder = Path(save_directory)
        (folder / "tokenizer.json").write_text("{")
        written.append(sorted(p.name for p in folder.iterdir()))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tokenizer, "save_pretrained", disk_full)
    out = tmp_path / ("new/folders/merged" if target == "in new folders" else "merged")
    if target == "empty folder":
        out.mkdir()
    with pytest.raises(OSError, match="No space left on device"):
        main(["export", "--results", str(results), "--preference", "0.3,0.7", "--merged",
              str(out)])
    (files,) = written
    assert "model.safetensors" in files and "tokenizer.json" in files  # it had begun
    assert list(tmp_path.iterdir()) == ([out] if target == "empty folder" else [])
    if target == "empty folder":
        assert list(out.iterdir()) == []
