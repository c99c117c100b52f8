# Every registered method's models (paretohqd.registry; rules/methods/) answer the held-out
# prompts and score their answers with every objective (and every judge: rules/judges.smk), once per training seed (sampling with
# that seed); the summary turns them into the front (means over seeds and prompts), its
# hypervolume, the comparison and the plots.


use rule generate_template as generate_eval with:
    input:
        unpack(eval_inputs),
        base_model_input,
        all_reward_models,
        all_judge_models,
        prompts="results/data/prompts.parquet",
    output:
        responses="results/eval/{method}/seed{seed}/responses/{pref}.parquet",
        scores=score_outputs(
            "results/eval/{method}/seed{seed}/scores/{objective}/{pref}.parquet"
        ),
        judged=judge_outputs(
            "results/eval/{method}/seed{seed}/judged/{objective}/{pref}.parquet"
        ),
    log:
        "results/logs/generate_eval/{method}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/generate_eval/{method}/seed{seed}/{pref}.tsv"
    params:
        **scoring_params(),
        judges=judge_scorers(),
        prompts={"split": "test", "n": None},
        samples_per_prompt=config["evaluation"]["samples_per_prompt"],
        source="eval",
        keep_empty=True,
        conditioning=eval_conditioning,
        sampling=eval_sampling(),


rule summary:
    input:
        unpack(summary_input),
    output:
        front="results/summary/front.csv",
        front_judged="results/summary/front_judged.csv",
        metrics="results/summary/metrics.json",
        png=report(
            "results/summary/front.png",
            caption="../report/front.rst",
            category="Front",
        ),
        svg="results/summary/front.svg",
        comparison_csv="results/summary/comparison.csv",
        comparison_md="results/summary/comparison.md",
        comparison_html=report(
            "results/summary/comparison.html",
            caption="../report/comparison.rst",
            category="Front",
        ),
    log:
        "results/logs/summary.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        judges=JUDGES,
        points=eval_points(),
        seeds=SEEDS,
        costs=method_costs(),
        conditioning_targets=conditioning_targets(),
        reference_point=config["summary"]["reference_point"],
        compute_reference=config["summary"]["compute_reference"],
        bootstrap={
            "resamples": config["summary"]["bootstrap_resamples"],
            "seed": config["seed"],
            "level": config["summary"]["confidence"],
        },
        collapse={
            "min_words": config["evaluation"]["collapse_min_words"],
            "max_repeated_share": config["evaluation"]["collapse_max_repeated_share"],
        },
    script:
        "../workflow_scripts/summary.py"


# Each method's training budget and compute (work seconds, tokens, FLOPs), the shared costs in
# rows of their own, and hypervolume against FLOPs: from the jobs' benchmark files and the
# phase and count lines of their logs (paretohqd/evaluation/compute.py).
rule compute:
    input:
        metrics=rules.summary.output.metrics,
        benchmarks=compute_benchmarks,
    output:
        csv="results/summary/compute.csv",
        md="results/summary/compute.md",
        html=report(
            "results/summary/compute.html",
            caption="../report/compute.rst",
            category="Compute",
        ),
        png=report(
            "results/summary/hv_compute.png",
            caption="../report/compute.rst",
            category="Compute",
        ),
    log:
        "results/logs/compute.log",
    conda:
        CORE_ENV
    params:
        costs=method_costs(),
        shared=shared_costs(),
        seeds=SEEDS,
        compute_reference=config["summary"]["compute_reference"],
    script:
        "../workflow_scripts/compute.py"


# What each selected training set holds (size, Pareto layer, normalised rewards, distance to
# its ray) and the hypervolume of the sets' means beside the trained models'
# (paretohqd/evaluation/selection_diagnostics.py).
rule selection_diagnostics:
    input:
        stats="results/offline/stats.json",
        metrics=rules.summary.output.metrics,
        sets=lambda wc: sorted({s["path"] for s in training_sets()}),
    output:
        csv="results/summary/selection.csv",
        hypervolume="results/summary/selection_hypervolume.csv",
        md="results/summary/selection.md",
    log:
        "results/logs/selection_diagnostics.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        sets=training_sets(),
        reference_point=config["summary"]["reference_point"],
    script:
        "../workflow_scripts/selection_diagnostics.py"
