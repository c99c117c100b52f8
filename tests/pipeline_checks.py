"""Checks of a finished workflow run against what its rules should have written, recomputed
from the run's own inputs with the package's functions and the config. They fail when a rule
is wired to the wrong file, order, setting or model, which existence and range checks cannot.

Each takes the run's folder (holding ``results/``) and its schema-validated config
(``run_config``)."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import moocore
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from paretohqd.config import (TRAINED_JUDGE, judge_sources, load_config, objective_names,
                              preference_id, training_seeds)
from paretohqd.data.offline import sample_prompts
from paretohqd.evaluation.collapse import is_collapsed
from paretohqd.evaluation.recipe_plan import paretohqd_plan
from paretohqd.io import file_digest, read_json, read_provenance
from paretohqd.methods.modpo.config import MODPOSettings
from paretohqd.methods.modpo.training import preference_pairs, train_modpo, training_pairs
from paretohqd.methods.morlhf.training import REWARD_LOG
from paretohqd.policy.config import SFTSettings
from paretohqd.policy.generation import SamplingSettings, load_policy, sample_responses
from paretohqd.policy.launch import job_spec, run_spec
from paretohqd.rewards.scorers import build_scorer
from paretohqd.rewards.scoring import weights_sha256
from paretohqd.registry import apply_conditioning
from paretohqd.selection import (LINEAR, LINEAR_POOL, representatives, select_rows,
                                 table_frame)
from workflow_runner import ROOT

# each ParetoHqD variant's selection mode (None: the configured `selection.mode`)
VARIANT_MODES = {"paretohqd": None, "paretohqd_linear": LINEAR_POOL,
                 "paretohqd_linear_all": LINEAR}


def csv_rounding(value: float) -> float:
    """The most a number can have moved when the workflow wrote it to a CSV: half a unit in
    its last place at the tables' 6 significant digits (``float_format="%.6g"``), and a hair
    for the binary float the text reads back as."""
    if value == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - 5) * (1 + 1e-9)


def run_config(*overlays: Path) -> dict:
    """config/config.yaml with each overlay merged in as ``--configfile`` does (sections merge
    key by key, lists are replaced) and the schema's defaults filled in."""
    return load_config([ROOT / "config/config.yaml", *overlays],
                       ROOT / "schemas/config.schema.yaml")


def stage2_steps(config: dict) -> int:
    """Stage 2's optimiser steps as documented: `stage2.steps`, else half of `sft.steps`."""
    return config["stage2"]["steps"] or max(1, config["sft"]["steps"] // 2)


def expected_selection(table: pd.DataFrame, config: dict, weights: list[float], k: int,
                       mode: str, frame: dict | None = None) -> pd.DataFrame:
    """What the selection code chooses for one preference from a scored table."""
    selection = config["selection"]
    return select_rows(table, objective_names(config), weights, k, mode, selection["layers"],
                       selection["normalisation"], selection["pool_factor"], frame,
                       selection["frame_quantile"])


def check_selections(run: Path, config: dict, variant: str) -> None:
    """Every stage-1 and stage-2 set a ParetoHqD variant wrote is exactly what the selection
    code chooses: the offline table at k for stage 1; for stage 2, that seed's own stage-2 pool
    at k // 2 (in the offline frame when `stage2.frame` is offline), plus the stage-1 set with
    `stage2.mix_stage1`), with `selection.frame_quantile`'s frame."""
    results = run / "results"
    mode = VARIANT_MODES[variant] or config["selection"]["mode"]
    k = config["selection"]["k"]
    k2 = config["stage2"]["k"] or max(1, k // 2)
    offline = pd.read_parquet(results / "offline/scored.parquet")
    quantile = config["selection"]["frame_quantile"]
    frame = (None if config["stage2"]["frame"] != "offline" else
             table_frame(offline, objective_names(config), quantile) if quantile else
             read_json(results / "offline/stats.json")["rewards"])
    for weights in config["preferences"]:
        pref = preference_id(weights)
        stage1 = pd.read_parquet(results / f"{variant}/{pref}/stage1/data.parquet")
        expected = expected_selection(offline, config, weights, k, mode)
        assert stage1["row_id"].tolist() == expected["row_id"].tolist(), (variant, pref)
        assert stage1["response"].tolist() == expected["response"].tolist()
        for seed in training_seeds(config):
            pool = pd.read_parquet(results / f"{variant}/seed{seed}/stage2_pool/scored.parquet")
            stage2 = pd.read_parquet(results / f"{variant}/seed{seed}/{pref}/stage2/data.parquet")
            chosen = expected_selection(pool, config, weights, k2, mode, frame)["row_id"].tolist()
            if config["stage2"]["mix_stage1"]:
                chosen += [row for row in expected["row_id"] if row not in chosen]
            assert stage2["row_id"].tolist() == chosen, (variant, seed, pref)
            assert set(stage2["row_id"]) - set(expected["row_id"]) <= set(pool["row_id"])


def check_retraining(run: Path, config: dict, adapter: str, data: str, init_adapter: str | None,
                     steps: int, seed: int, workdir: Path, **changes) -> None:
    """One SFT job retrained here (from ``init_adapter``, on ``data``, with the configured
    settings at ``steps`` and ``changes``; paths under results/) gives the workflow's
    ``adapter`` bit for bit (CPU, float32, one thread as the workflow's jobs run). A job that
    started from a fresh LoRA or another adapter, or trained on other data or settings, would
    not."""
    results = run / "results"
    spec = job_spec(str(results / "models/base"), str(results / data), workdir / "adapter",
                    workdir / "checkpoints",
                    replace(SFTSettings.from_config(config, steps, seed), **changes),
                    config["base_model"]["prompt_format"],
                    None if init_adapter is None else str(results / init_adapter))
    metrics = one_thread(run_spec, spec)
    assert metrics["steps"] == steps
    assert_same_adapter(workdir / "adapter", results / adapter)


def check_modpo_retraining(run: Path, config: dict, pref: str, seed: int,
                           workdir: Path) -> None:
    """One preference's MODPO adapter retrained here from the offline table, with that
    preference's weights (by its id in the config) and the configured settings, equals the
    workflow's bit for bit: a job trained for another preference, on other pairs or
    settings, would not."""
    results = run / "results"
    weights = {preference_id(w): w for w in config["preferences"]}[pref]
    objectives = objective_names(config)
    settings = MODPOSettings.from_config(config, seed)
    pairs = preference_pairs(pd.read_parquet(results / "offline/scored.parquet"), objectives,
                             weights, config["selection"]["normalisation"], settings.beta)
    used = training_pairs(pairs, settings.steps * settings.batch_size, settings.seed)
    metrics = one_thread(train_modpo, str(results / "models/base"), used, weights,
                         workdir / "adapter", workdir / "checkpoints", settings,
                         config["base_model"]["prompt_format"])
    assert metrics["steps"] == settings.steps
    assert_same_adapter(workdir / "adapter", results / f"modpo/seed{seed}/{pref}/adapter")


def one_thread(function, *args):
    """``function(*args)`` with one torch thread, as the workflow's jobs run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return function(*args)
    finally:
        torch.set_num_threads(threads)


def assert_same_adapter(ours: Path, theirs: Path) -> None:
    """Two LoRA adapters have the same tensors, bit for bit."""
    mine = load_file(ours / "adapter_model.safetensors")
    written = load_file(theirs / "adapter_model.safetensors")
    assert mine.keys() == written.keys()
    for name, tensor in written.items():
        assert torch.equal(mine[name], tensor), f"{theirs}: {name} differs from a retraining"


def check_conditioned_answers(run: Path, config: dict, method: str, adapter: str,
                              conditioning: dict, source: str) -> None:
    """Every answer table of a method steered by its prompt (RiC) records the conditioning of
    its own preference (the configured weights of its id, the objectives in order, the
    method's ``function`` and ``options``), and regenerating its answers here from the test
    prompts conditioned that way (input file ``source`` under results/), with the ``adapter``
    pattern's model for its seed and the evaluation's sampling, gives the table's answers: a
    job that asked for another preference's rewards would not."""
    results = run / "results"
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    sampling = {key: config["evaluation"][key]
                for key in ("temperature", "top_p", "max_new_tokens", "batch_size")}
    for weights in config["preferences"]:
        pref = preference_id(weights)
        asked = {**conditioning, "objectives": objective_names(config), "weights": weights}
        for seed in training_seeds(config):
            table = results / f"eval/{method}/seed{seed}/responses/{pref}.parquet"
            assert read_provenance(table)["conditioning"] == asked, table
            test = sample_prompts(prompts, None, seed, "test")
            texts = apply_conditioning(test["prompt"], asked, str(results / source), seed)
            assert texts != test["prompt"].tolist()
            policy, tokenizer = load_policy(str(results / "models/base"), torch.device("cpu"),
                                            torch.float32,
                                            str(results / adapter.format(seed=seed)))
            samples = one_thread(sample_responses, policy, tokenizer, texts,
                                 config["evaluation"]["samples_per_prompt"],
                                 SamplingSettings(seed=seed, **sampling),
                                 config["base_model"]["prompt_format"])
            answers = pd.read_parquet(table)
            assert answers["prompt_id"].tolist() == [
                pid for pid, drawn in zip(test["prompt_id"], samples) for _ in drawn]
            assert answers["response"].tolist() == [text for drawn in samples for text in drawn]


def check_reward_pairing(adapter: Path, weights: dict[str, float]) -> None:
    """The GRPO trainer (MORLHF) that wrote ``adapter`` weighed each reward function by its
    objective's weight: its own record pairs the names with ``weights``, and every logged
    reward is the weighted sum of the logged per-function means (with unequal weights and
    means, a reward meeting another's weight breaks the sum)."""
    log = read_json(adapter / REWARD_LOG)
    assert log["weights"] == weights
    assert log["steps"]
    for step in log["steps"]:
        assert len(set(step["means"].values())) == len(weights), step  # the rewards differ
        assert step["reward"] == pytest.approx(
            sum(w * step["means"][name] for name, w in weights.items()), rel=1e-5, abs=1e-6)


def check_evaluated_models(run: Path, config: dict, models: dict[str, str | None]) -> None:
    """Every evaluation answer table of these methods was written by the right model: the
    adapter recorded in the table's metadata has the weights of the method's adapter for that
    preference and seed (``models``: method -> adapter path pattern under results/ with
    {seed} and {pref}, or None for the untuned base model), sampled with that seed."""
    results = run / "results"
    for method, pattern in models.items():
        tables = sorted((results / f"eval/{method}").glob("seed*/responses/*.parquet"))
        assert tables, method
        for table in tables:
            seed, pref = int(table.parents[1].name.removeprefix("seed")), table.stem
            provenance = read_provenance(table)
            assert provenance["seed"] == seed, table
            if pattern is None:
                assert provenance["adapter"] is None, table
                continue
            weights = results / pattern.format(seed=seed, pref=pref) / "adapter_model.safetensors"
            assert provenance["adapter_sha256"] == file_digest(weights), (table, weights)


def scored_answers(results: Path, method: str, seed: int, pref: str,
                   objectives: list[str], judged: tuple[str, ...] = ()) -> pd.DataFrame:
    """One evaluated model's answers joined with its score files, by row id (the judges'
    files for the objectives in ``judged``)."""
    answers = pd.read_parquet(results / f"eval/{method}/seed{seed}/responses/{pref}.parquet")
    for objective in objectives:
        grader = "judged" if objective in judged else "scores"
        scores = pd.read_parquet(
            results / f"eval/{method}/seed{seed}/{grader}/{objective}/{pref}.parquet")
        answers[objective] = answers["row_id"].map(scores.set_index("row_id")["score"])
    return answers


def check_judges(run: Path, config: dict) -> None:
    """The judged grading is the judges' own: each judged objective's mean in
    front_judged.csv is the mean of its judge's score files (any other objective's is the
    reward model's, as in front.csv), in the frame of the judge's offline scores; the judges
    score differently from the reward models they stand beside; over-optimisation is the
    difference of the two gradings' gains over the base model."""
    results = run / "results"
    objectives = objective_names(config)
    metrics = read_json(results / "summary/metrics.json")
    sources = metrics["judged"]["sources"]
    judged = tuple(o for o, source in sources.items() if source != "reward model")
    assert judged, sources
    front = pd.read_csv(results / "summary/front_judged.csv")
    trained = pd.read_csv(results / "summary/front.csv").set_index(["method", "pref_id"])
    differs = {o: False for o in judged}
    for row in front.itertuples(index=False):
        answers = pd.concat([scored_answers(results, row.method, seed, row.pref_id,
                                            objectives, judged)
                             for seed in training_seeds(config)], ignore_index=True)
        for objective in objectives:
            assert math.isclose(getattr(row, objective), answers[objective].mean(),
                                rel_tol=1e-5, abs_tol=1e-6), (row.method, objective)
            if objective in judged:
                differs[objective] |= not math.isclose(
                    getattr(row, objective), trained.loc[(row.method, row.pref_id), objective],
                    rel_tol=1e-3)
            else:
                assert math.isclose(getattr(row, objective), trained.loc[
                    (row.method, row.pref_id), objective], rel_tol=1e-5, abs_tol=1e-6)
    assert all(differs.values()), differs
    for j, objective in enumerate(objectives):
        if objective in judged:
            offline = pd.read_parquet(results / f"judges/offline/{objective}.parquet")
            assert len(offline) == len(pd.read_parquet(results / "offline/scored.parquet"))
            assert metrics["judged"]["normalisation"]["min"][j] == pytest.approx(
                offline["score"].min())
            assert metrics["judged"]["normalisation"]["max"][j] == pytest.approx(
                offline["score"].max())
    for method, entry in metrics["methods"].items():
        if method == "base":
            assert "over_optimisation" not in entry
            continue
        gap = entry["over_optimisation"]
        per_objective = gap["per_objective"]
        assert set(per_objective) == set(judged), method
        for rates in per_objective.values():
            assert 0 <= rates["win_rate_trained"] <= 1 and 0 <= rates["win_rate_judged"] <= 1
            assert rates["estimate"] == pytest.approx(
                rates["win_rate_trained"] - rates["win_rate_judged"], abs=1e-9)
        assert gap["estimate"] == pytest.approx(
            np.mean([r["estimate"] for r in per_objective.values()]), abs=1e-9), method
        assert -1 <= gap["ci_low"] <= gap["ci_high"] <= 1, method


def bootstrap_se(cells: np.ndarray) -> float:
    """The limit (infinitely many resamples) of the standard error that resampling seeds
    (rows) and prompts (columns) independently gives the mean of ``cells``: with the cells
    split into grand mean, seed effects a, prompt effects b and residuals e (population
    variances), sqrt(var a / n_seeds + var b / n_prompts + var e / (n_seeds n_prompts))."""
    n_seeds, n_prompts = cells.shape
    seed_effects = cells.mean(axis=1, keepdims=True) - cells.mean()
    prompt_effects = cells.mean(axis=0, keepdims=True) - cells.mean()
    residuals = cells - cells.mean() - seed_effects - prompt_effects
    return math.sqrt(seed_effects.var() / n_seeds + prompt_effects.var() / n_prompts
                     + residuals.var() / (n_seeds * n_prompts))


def check_front(run: Path, config: dict, preferences: dict[str, dict[str, list[float]]]
                ) -> None:
    """Every row of front.csv is the mean of its own model's score files over its seeds'
    answers (its collapse rate theirs under the configured rule, each standard error the one
    resampling those answers' seeds and prompts gives, within the bootstrap's own error), at
    its own preference (``preferences``: method -> {pref_id: weights}; methods absent from it
    use the configured preferences), and each method's hypervolume in metrics.json is
    moocore's of its rows in the frame of the offline scores' range with the configured
    reference point (and per training seed, that of the seed's own answers), and its
    difference to the reference method is the difference of those hypervolumes."""
    results = run / "results"
    objectives = objective_names(config)
    seeds = training_seeds(config)
    configured = {preference_id(w): w for w in config["preferences"]}
    front = pd.read_csv(results / "summary/front.csv")
    metrics = read_json(results / "summary/metrics.json")
    assert metrics["objectives"] == objectives
    seed_points: dict[str, list[np.ndarray]] = {}  # per method: (n_seeds, M) per preference
    points: dict[str, list[np.ndarray]] = {}  # per method: the (M,) means of its answers
    # a bootstrap standard error from B resamples is within a few times 1/sqrt(B) of its limit
    se_tolerance = 5 / math.sqrt(config["summary"]["bootstrap_resamples"])
    for row in front.itertuples(index=False):
        answers = pd.concat([scored_answers(results, row.method, seed, row.pref_id, objectives)
                             .assign(seed=seed) for seed in seeds], ignore_index=True)
        assert row.n_eval == len(answers) and row.n_seeds == len(seeds)
        evaluation = config["evaluation"]
        collapsed = answers["response"].fillna("").map(lambda text: is_collapsed(
            text, evaluation["collapse_min_words"], evaluation["collapse_max_repeated_share"]))
        assert math.isclose(row.collapse_rate, collapsed.mean(), abs_tol=1e-6), row.method
        prompt_means = answers.groupby(["seed", "prompt_id"])[objectives].mean()
        points.setdefault(row.method, []).append(answers[objectives].mean().to_numpy())
        seed_points.setdefault(row.method, []).append(
            prompt_means.groupby(level="seed").mean().loc[sorted(seeds)].to_numpy())
        for objective in objectives:
            assert answers[objective].notna().all()
            assert math.isclose(getattr(row, objective), answers[objective].mean(),
                                rel_tol=1e-5, abs_tol=1e-6), (row.method, row.pref_id, objective)
            expected = bootstrap_se(prompt_means[objective].unstack("prompt_id").to_numpy())
            se = getattr(row, f"se_{objective}")
            assert se == pytest.approx(expected, rel=se_tolerance, abs=1e-9), (
                row.method, row.pref_id, objective)
        weights = [getattr(row, f"w_{o}") for o in objectives]
        if row.pref_id == "none":
            assert all(math.isnan(w) for w in weights)
        else:
            expected = preferences.get(row.method, configured)[row.pref_id]
            assert weights == pytest.approx(expected, abs=1e-9), (row.method, row.pref_id)
    # the frame: the offline data's own range per objective, and the configured reference
    offline = pd.read_parquet(results / "offline/scored.parquet")[objectives]
    low, high = offline.min().to_numpy(), offline.max().to_numpy()
    reference = np.full(len(objectives), float(config["summary"]["reference_point"]))
    assert metrics["normalisation"]["min"] == pytest.approx(low.tolist(), rel=1e-12)
    assert metrics["normalisation"]["max"] == pytest.approx(high.tolist(), rel=1e-12)
    assert metrics["reference_point"] == reference.tolist()

    def volume(means: np.ndarray) -> float:
        normalised = (means - low) / (high - low)
        inside = normalised[(normalised > reference).all(axis=1)]
        return (float(moocore.hypervolume(inside, ref=reference, maximise=True))
                if len(inside) else 0.0)

    # from the answers' own means, not front.csv's 6 digits: an objective whose offline range
    # is narrow (a stand-in humor model: 3e-4) magnifies that rounding past 1e-4 in the volume
    for method in front["method"].unique():
        assert math.isclose(metrics["methods"][method]["hypervolume"],
                            volume(np.stack(points[method])), rel_tol=1e-7,
                            abs_tol=1e-10), method
        # each training seed's own front, from that seed's answers alone
        per_seed = np.stack(seed_points[method], axis=1)  # (n_seeds, n_points, M)
        assert metrics["methods"][method]["hypervolume_per_seed"] == pytest.approx(
            [volume(seed_front) for seed_front in per_seed], rel=1e-7, abs=1e-10), method
    reference_method = metrics["bootstrap"]["compare_to"]
    for method, entry in metrics["methods"].items():
        if method != reference_method and reference_method in metrics["methods"]:
            versus = entry[f"vs_{reference_method}"]
            assert math.isclose(versus["estimate"], metrics["methods"][reference_method][
                "hypervolume"] - entry["hypervolume"], abs_tol=1e-12), method


def train_prompt_count(run: Path) -> int:
    """The run's train prompts."""
    prompts = pd.read_parquet(run / "results/data/prompts.parquet")
    return int((prompts["split"] == "train").sum())


GENERATED = re.compile(r"(\d+) prompts, \d+ responses")


def answers_asked(run: Path, logs: str, samples_per_prompt: int,
                  jobs: Sequence[str] | None = None) -> int:
    """Answers the generation jobs logged under results/logs/``logs``/ (those named ``jobs``,
    default all) were asked for: their prompts x ``samples_per_prompt`` (before empty answers
    are dropped)."""
    folder = run / "results/logs" / logs
    jobs = sorted(folder.glob("*.log")) if jobs is None else [folder / f"{j}.log" for j in jobs]
    assert jobs, f"no generation logs under {logs}"
    return sum(int(GENERATED.search(job.read_text()).group(1)) * samples_per_prompt
               for job in jobs)


def check_compute(run: Path, config: dict) -> None:
    """compute.csv of a one-seed run: a row per evaluated method (metrics.json's) and per
    shared cost; the
    ParetoHqD chain's budget by hand from the config (two adapters per preference, k and
    k // 2 rows, the configured steps and batch) and as its recipe plan counts it (models,
    sequences, stage-2 answers asked for); tokens trained the sum of its adapters'
    train_metrics.json; stage 1's FLOPs 4 N T of its adapters (it generates nothing); the
    shared costs' tokens and FLOPs positive."""
    results = run / "results"
    table = pd.read_csv(results / "summary/compute.csv").set_index("name")
    methods = list(read_json(results / "summary/metrics.json")["methods"])
    heldout = ["held-out sets"] if config["evaluation"]["heldout_sets"] else []
    assert table.index.tolist() == [*methods, "offline data", "reward models", "judges",
                                    "evaluation", *heldout]
    seed = training_seeds(config)[0]
    prefs = [preference_id(w) for w in config["preferences"]]
    k, batch = config["selection"]["k"], config["sft"]["batch_size"]
    steps = len(prefs) * (config["sft"]["steps"] + stage2_steps(config))
    chain = table.loc["paretohqd"]
    assert (chain["models"], chain["steps"], chain["sequences"], chain["rows"]) == (
        2 * len(prefs), steps, steps * batch, len(prefs) * (k + k // 2))
    plan = paretohqd_plan(config, train_prompt_count(run))
    assert (plan.models, plan.sequences) == (chain["models"], chain["sequences"])
    generators = representatives({preference_id(w): w for w in config["preferences"]},
                                 len(objective_names(config)))
    assert plan.answers == answers_asked(run, f"generate_stage2/paretohqd/seed{seed}",
                                         config["stage2"]["samples_per_prompt"], generators)
    adapters = {stage: [read_json(results / f"paretohqd/seed{seed}/{p}/{stage}/adapter/"
                                  "train_metrics.json") for p in prefs]
                for stage in ("stage1", "stage2")}
    trained = [m for stage in adapters.values() for m in stage]
    assert chain["train_tokens"] == sum(m["train_tokens"] for m in trained) > 0
    stage1_flops = sum(4 * m["policy_params"] * m["train_tokens"] for m in adapters["stage1"])
    if "paretohqd_stage1" in table.index:  # reported when `methods` lists it
        stage1 = table.loc["paretohqd_stage1"]
        assert stage1["flops"] == pytest.approx(stage1_flops, rel=1e-5)
        assert stage1["generated_tokens"] == 0
    assert chain["flops"] > stage1_flops and chain["generated_tokens"] > 0
    assert table.loc["base", "flops"] == 0 and table.loc["base", "models"] == 0
    for shared in ("offline data", "reward models", "judges", "evaluation"):
        assert table.loc[shared, "flops"] > 0 and table.loc[shared, "work_s"] > 0, shared
    assert table.loc["evaluation", "generated_tokens"] > 0
    assert table.loc["offline data", "scored_tokens"] > 0
    assert table.loc["reward models", "train_tokens"] > 0
    assert table.loc["judges", "train_tokens"] > 0 and table.loc["judges", "scored_tokens"] > 0
    assert (results / "summary/hv_compute.png").stat().st_size > 1000
    assert "| paretohqd |" in (results / "summary/compute.md").read_text()


def run_scorers(run: Path, config: dict) -> dict[str, dict[str, dict]]:
    """Each objective's ``build_scorer`` spec as the config states it, per grading folder
    (``scores``: its reward model, the configured one or the run's
    results/reward_models/<objective>/model; ``judged``: its judge, a configured one or the
    run's results/judges/<objective>/model)."""
    results = run / "results"
    judges = judge_sources(config)
    specs: dict[str, dict[str, dict]] = {"scores": {}, "judged": {}}
    for objective in config["objectives"]:
        name, classifier = objective["name"], objective["scorer"] == "classifier"
        spec = {"kind": objective["scorer"],
                "model": (objective["model"] or str(results / f"reward_models/{name}/model"))
                if classifier else None,
                "logit_index": objective["logit_index"],
                "input_format": objective["input_format"]}
        specs["scores"][name] = spec
        if judges.get(name) == TRAINED_JUDGE:
            specs["judged"][name] = {**spec, "model": str(results / f"judges/{name}/model")}
        elif name in judges:
            specs["judged"][name] = {"kind": "classifier",
                                     **config["evaluation"]["judges"]["models"][name]}
    return specs


def check_scores_rescored(run: Path, config: dict, sample: int = 8) -> None:
    """Every score table of the run (offline, stage-2 pools, evaluation, held-out sets; the
    judges' too) records its own objective, scorer kind, logit, input format and the SHA-256
    of that objective's model as ``run_scorers`` names it; and ``sample`` evaluation answers,
    scored here one at a time by each objective's model, score as its tables say. To 1e-4:
    float32 on the CPU, where the jobs' length-sorted batches pad an answer to other lengths,
    which moves its logit around the sixth digit; the objectives' models differ on the sample
    by far more (asserted), so a table paired with another objective's scorer fails."""
    results = run / "results"
    answers = pd.concat([pd.read_parquet(path).assign(table=path) for path in
                         sorted(results.glob("eval/*/seed*/responses/*.parquet"))],
                        ignore_index=True)
    picked = answers.sample(n=min(sample, len(answers)), random_state=0)
    for grading, specs in run_scorers(run, config).items():
        rescored = {}
        for objective, spec in specs.items():
            expected = {"objective": objective, "kind": spec["kind"],
                        "logit_index": spec["logit_index"], "input_format": spec["input_format"],
                        "weights_sha256": weights_sha256(spec["model"]) if spec["model"] else {}}
            tables = sorted(results.rglob(f"{grading}/{objective}/*.parquet"))
            if grading == "judged":
                tables.append(results / f"judges/offline/{objective}.parquet")
            assert tables, (grading, objective)
            for table in tables:
                provenance = read_provenance(table) or {}
                assert {key: provenance.get(key) for key in expected} == expected, table
            scorer = build_scorer(spec, torch.device("cpu"), config["scoring"]["max_length"])
            rescored[objective] = np.array([scorer.score([row.prompt], [row.response], 1)[0]
                                            for row in picked.itertuples()])
            recorded = [pd.read_parquet(row.table.parents[1] / grading / objective
                                        / row.table.name).set_index("row_id")["score"][row.row_id]
                        for row in picked.itertuples()]
            np.testing.assert_allclose(rescored[objective], recorded, rtol=0, atol=1e-4,
                                       err_msg=f"{grading} of {objective}")
        for a, b in itertools.combinations(rescored, 2):
            assert np.abs(rescored[a] - rescored[b]).max() > 1e-2, (grading, a, b)


def card_metadata(card: str) -> dict:
    """The YAML front matter of a model card."""
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


def check_served(run: Path, config: dict, models: dict[str, str]) -> None:
    """What a finished run serves follows its config: the model index lists, per method of
    ``models`` (method -> adapter pattern under results/ with {seed} and {pref}), exactly the
    configured preferences' adapters for every training seed; results/hub/ holds one folder
    per evaluated model of front.csv (none for a preference no longer configured), each with
    the weights of its adapter and a card naming its preference and its measured rewards."""
    results = run / "results"
    objectives = objective_names(config)
    seeds = training_seeds(config)
    index = read_json(results / "models/index.json")
    for method, pattern in models.items():
        assert [(a["seed"], a["pref_id"], a["weights"], a["adapter"])
                for a in index["methods"][method]] == [
            (seed, preference_id(w), w, pattern.format(seed=seed, pref=preference_id(w)))
            for seed in seeds for w in config["preferences"]], method
    front = pd.read_csv(results / "summary/front.csv").set_index(["method", "pref_id"])
    hub = results / "hub"
    published = sorted(folder.relative_to(hub).parts for folder in hub.glob("*/*/*"))
    assert published == sorted((m, f"seed{s}", p) for m, p in front.index if m != "base"
                               for s in seeds)
    for method, pattern in models.items():
        for seed in seeds:
            for weights in config["preferences"]:
                pref = preference_id(weights)
                folder = hub / method / f"seed{seed}" / pref
                adapter = results / pattern.format(seed=seed, pref=pref)
                assert file_digest(folder / "adapter_model.safetensors") == file_digest(
                    adapter / "adapter_model.safetensors"), folder
                metadata = card_metadata((folder / "README.md").read_text())
                assert metadata["preference"] == dict(zip(objectives, weights)), folder
                for objective in objectives:
                    measured = metadata["eval_results"][objective]["mean_reward"]
                    assert measured == pytest.approx(front.loc[(method, pref), objective],
                                                     rel=1e-4), (folder, objective)


def check_heldout(run: Path, config: dict, name: str) -> None:
    """Held-out set ``name``: its front has the test front's (method, preference) rows, each
    the mean of its own held-out score files, with the test set's frame; its drops are the
    test hypervolumes minus the held-out ones, by method and grading."""
    results = run / "results"
    objectives = objective_names(config)
    seeds = training_seeds(config)
    test_metrics = read_json(results / "summary/metrics.json")
    metrics = read_json(results / f"summary/heldout/{name}/metrics.json")
    assert metrics["normalisation"] == test_metrics["normalisation"]
    assert metrics["judged"]["normalisation"] == test_metrics["judged"]["normalisation"]
    front = pd.read_csv(results / f"summary/heldout/{name}/front.csv")
    tested = pd.read_csv(results / "summary/front.csv")
    assert sorted(zip(front["method"], front["pref_id"])) == sorted(
        zip(tested["method"], tested["pref_id"]))
    for row in front.itertuples(index=False):
        for objective in objectives:
            scores = pd.concat([pd.read_parquet(
                results / f"heldout/{name}/{row.method}/seed{seed}/scores/{objective}/"
                f"{row.pref_id}.parquet") for seed in seeds])
            assert getattr(row, objective) == pytest.approx(scores["score"].mean(), rel=1e-5)
    drops = pd.read_csv(results / f"summary/heldout/{name}/drops.csv")
    assert set(drops["grading"]) == {"reward models", "judges"}
    assert len(drops) == 2 * len(test_metrics["methods"])
    for row in drops.itertuples(index=False):
        test, held = ((m["methods"] if row.grading == "reward models"
                       else m["judged"]["methods"]) for m in (test_metrics, metrics))
        # the CSV keeps 6 significant digits: each number within its own rounding of the
        # unrounded hypervolumes of metrics.json, the drop their exact difference
        test_hv, held_hv = test[row.method]["hypervolume"], held[row.method]["hypervolume"]
        assert row.hv_test == pytest.approx(test_hv, rel=0, abs=csv_rounding(test_hv))
        assert row.hv_heldout == pytest.approx(held_hv, rel=0, abs=csv_rounding(held_hv))
        assert row.drop == pytest.approx(test_hv - held_hv, rel=0,
                                         abs=csv_rounding(test_hv - held_hv))
        assert row.drop_ci_low <= row.drop_ci_high
