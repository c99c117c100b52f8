# Every registered method's models (paretohqd.registry; rules/methods/) answer the held-out
# prompts and score their answers with every objective, once per training seed (sampling with
# that seed); the summary turns them into the front (means over seeds and prompts), its
# hypervolume, the comparison and the plots.


use rule generate_template as generate_eval with:
    input:
        unpack(eval_inputs),
        base_model_input,
        all_reward_models,
        prompts="results/data/prompts.parquet",
    output:
        responses="results/eval/{method}/seed{seed}/responses/{pref}.parquet",
        scores=score_outputs(
            "results/eval/{method}/seed{seed}/scores/{objective}/{pref}.parquet"
        ),
    log:
        "results/logs/generate_eval/{method}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/generate_eval/{method}/seed{seed}/{pref}.tsv"
    params:
        **scoring_params(),
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
