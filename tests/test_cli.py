"""The `paretohqd` command line: its pieces by hand, then every command on the tiny run."""

import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from paretohqd.cli import UsageError, front_report, main, read_prompts
from workflow_runner import ROOT

COMMANDS = ("generate", "front", "export")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``python -m paretohqd.cli args...`` with this checkout's package, offline."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "paretohqd.cli", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=600)


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


@pytest.mark.e2e
def test_generate_text_jsonl_stdin_and_interpolation(tiny_run):
    results = str(tiny_run / "results")
    text = cli("generate", "--results", results, "--preference", "0.3,0.7", *FAST,
               "Hello there", "What is the capital of France?")
    assert text.returncode == 0, text.stderr[-3000:]
    assert text.stdout.count("\n") >= 2

    nearest = cli("generate", "--results", results, "--preference", "0.3,0.7", "--format",
                  "jsonl", *FAST, stdin="first prompt\nsecond prompt\n")
    assert nearest.returncode == 0, nearest.stderr[-3000:]
    records = [json.loads(line) for line in nearest.stdout.splitlines()]
    assert [r["prompt"] for r in records] == ["first prompt", "second prompt"]
    for record in records:
        assert record["preference"] == [0.3, 0.7] and record["method"] == "paretohqd"
        assert [(a["pref_id"], a["merge_weight"]) for a in record["adapters"]] == [
            ("p000_100", 1.0)]
        assert record["adapters"][0]["path"].endswith("paretohqd/seed42/p000_100/stage2/adapter")
        assert isinstance(record["answer"], str)

    merged = cli("generate", "--results", results, "--preference", "0.3,0.7", "--format",
                 "jsonl", "--interpolate", *FAST, "Hello there")
    assert merged.returncode == 0, merged.stderr[-3000:]
    (record,) = [json.loads(line) for line in merged.stdout.splitlines()]
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


@pytest.mark.e2e
def test_export_writes_a_loadable_stand_alone_model(tiny_run, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    result = cli("export", "--results", str(tiny_run / "results"), "--preference", "0.5,0.5",
                 "--interpolate", "--merged", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.num_parameters() > 1e8  # SmolLM2-135M, no adapter left
    assert not any("lora" in name for name, _ in model.named_parameters())
    assert AutoTokenizer.from_pretrained(out).chat_template
    info = json.loads((out / "paretohqd_export.json").read_text())
    assert sorted(a["pref_id"] for a in info["adapters"]) == ["p000_100", "p100_000"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    again = cli("export", "--results", str(tiny_run / "results"), "--preference", "0.5,0.5",
                "--merged", str(out))
    assert again.returncode == 2 and "exists and is not an empty folder" in again.stderr
