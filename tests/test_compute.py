"""The budget and compute table from jobs' benchmark files and log lines, by hand."""

import logging

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.compute import (compute_markdown, compute_table, job_record,
                                          with_hypervolume)
from paretohqd.evaluation.costs import elapsed_seconds, job_log, main_invocation, run_floor
from paretohqd.runtime import log_count, log_phase


def job(results, name: str, seconds: float, phases: dict, counts: dict,
        single: bool = False) -> str:
    """A benchmark file and the log beside it, written by the runtime's own log functions."""
    bench = results / "benchmarks" / f"{name}.tsv"
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t100\n")
    log_path = results / "logs" / (f"{name.split('/')[0]}.log" if single else f"{name}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"test_compute.{name}")
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    for phase, value in phases.items():
        log_phase(logger, phase, value)
    for count, value in counts.items():
        log_count(logger, count, value)
    logger.removeHandler(handler)
    handler.close()
    return str(bench)


def test_job_log_beside_the_benchmark_or_of_the_rule(tmp_path):
    results = tmp_path / "results"
    nested = job(results, "sft_stage1/m/seed1/p1", 1.0, {}, {})
    single = job(results, "base_model/base_model", 1.0, {}, {}, single=True)
    assert job_log(nested) == results / "logs/sft_stage1/m/seed1/p1.log"
    assert job_log(single) == results / "logs/base_model.log"
    with pytest.raises(FileNotFoundError, match="no log for .*orphan.tsv"):
        (results / "benchmarks/orphan.tsv").write_text("s\n1\n")
        job_log(results / "benchmarks/orphan.tsv")


def test_flops_work_and_budget_by_hand(tmp_path):
    """Method m, two seeds, per seed one LoRA job (2 steps x batch 4 over 4 rows: 2 epochs,
    100 tokens of a 10-parameter model) and one generation (30 forward tokens, 20 of them
    new, scored 50 tokens by a 3-parameter model); a shared evaluation job."""
    results = tmp_path / "results"
    train, generate = [], []
    for seed, extra_work in ((1, 0.0), (2, 2.0)):
        train.append(job(results, f"sft/m/seed{seed}", 10.0,
                         {"startup": 3.0, "work": 5.0 + extra_work},
                         {"steps": 2, "sequences": 8, "examples": 4, "train_tokens": 100,
                          "forward_tokens": 0, "lora_train_param_tokens": 10 * 100,
                          "forward_param_tokens": 0}))
        generate.append(job(results, f"gen/m/seed{seed}", 6.0,
                            {"load": 0.5, "work": 1.0},
                            {"forward_tokens": 30, "forward_param_tokens": 10 * 30,
                             "generated_tokens": 20, "scored_tokens": 50,
                             "scored_param_tokens": 3 * 50}))
    shared = [job(results, "generate_eval/m/seed1/p1", 4.0, {"work": 1.5},
                  {"generated_tokens": 7, "forward_param_tokens": 10 * 12})]
    record = job_record(train[0])
    assert record["flops"] == 4 * 1000 and record["work_s"] == 5.0 and record["wall_s"] == 10.0

    table = compute_table({"m": {"train": train, "generate": generate}},
                          {"evaluation": shared}, n_seeds=2).set_index("name")
    m = table.loc["m"]
    # per seed (the mean of the two): 4*1000 + 2*300 + 2*150 FLOPs; work (5 + 7) / 2 of
    # training and 1 of generation; wall 10 + 6
    assert m["flops"] == 4 * 1000 + 2 * 300 + 2 * 150
    assert m["work_s"] == pytest.approx((5.0 + 7.0) / 2 + 1.0)
    assert m["wall_s"] == 16.0
    assert (m["models"], m["steps"], m["sequences"], m["rows"], m["epochs"]) == (1, 2, 8, 4, 2.0)
    assert (m["train_tokens"], m["generated_tokens"], m["scored_tokens"]) == (100, 20, 50)
    evaluation = table.loc["evaluation"]
    assert evaluation["kind"] == "shared" and evaluation["flops"] == 2 * 120
    assert evaluation["models"] == 0 and np.isnan(evaluation["epochs"])

    metrics = {"methods": {"m": {"hypervolume": 0.5, "hypervolume_ci": [0.4, 0.6]}}}
    full = with_hypervolume(table.reset_index(), metrics, "m").set_index("name")
    assert full.loc["m", "flops_vs_m"] == 1.0 and np.isnan(full.loc["evaluation", "flops_vs_m"])
    assert full.loc["m", "hypervolume_ci_high"] == 0.6
    text = compute_markdown(full.reset_index(), "m")
    assert "| m | 1 | 2 | 8 | 4 | 2 | 100 |" in text
    assert "| (shared) evaluation | 1.5 | 4.0 | 0 | 7 | 0 | 240 |  |  |  |" in text
    assert "4 N T for LoRA training" in text
    missing = with_hypervolume(table.reset_index(), metrics, "ric")  # the reference did not run
    assert missing["flops_vs_ric"].isna().all()


def test_the_runs_wall_time_is_its_main_invocations_elapsed_time(tmp_path):
    logs = tmp_path / ".snakemake/log"
    logs.mkdir(parents=True)
    (logs / "2026-01-01T000000.snakemake.log").write_text(
        "61 of 61 steps (100%) done\nComplete log(s): x\nElapsed time: 0:08:54.990352\n")
    (logs / "2026-01-01T010000.snakemake.log").write_text(
        "2 of 2 steps (100%) done\nElapsed time: 0:00:03.07\n")
    (logs / "2026-01-01T020000.snakemake.log").write_text("Building DAG of jobs...\n")  # --report
    main = main_invocation(sorted(logs.iterdir()))
    assert main.name == "2026-01-01T000000.snakemake.log"
    assert elapsed_seconds(main) == pytest.approx(534.990352)
    assert elapsed_seconds(logs / "2026-01-01T020000.snakemake.log") is None
    (logs / "long.snakemake.log").write_text("Elapsed time: 1 day, 2:00:01\n")
    assert elapsed_seconds(logs / "long.snakemake.log") == 26 * 3600 + 1
    assert main_invocation([logs / "2026-01-01T020000.snakemake.log"]) is None


def test_the_floor_is_the_jobs_summed_time_over_the_cores():
    jobs = pd.DataFrame({"wall_s": [10.0, 30.0], "work_s": [4.0, 6.0], "fixed_s": [6.0, 24.0]})
    assert run_floor(jobs, 2) == {"floor_s": 20.0, "work_floor_s": 5.0, "fixed_floor_s": 15.0}
    with pytest.raises(ValueError, match="cores must be at least 1"):
        run_floor(jobs, 0)
