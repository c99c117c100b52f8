# Every method's models answer the held-out prompts; the answers are scored by the shared
# `score` rule; the summary turns them into the front, its hypervolume and the plots.


rule generate_eval:
    input:
        unpack(eval_adapter_input),
        base_model_input,
        prompts="results/data/prompts.parquet",
    output:
        "results/eval/{method}/responses/{pref}.parquet",
    log:
        "results/logs/generate_eval/{method}/{pref}.log",
    benchmark:
        "results/benchmarks/generate_eval/{method}/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        prompts={"split": "test", "n": None},
        samples_per_prompt=1,
        include_references=False,
        source="eval",
        keep_empty=True,
        conditioning=eval_conditioning,
        sampling=eval_sampling(),
        seed=config["seed"],
    script:
        "../workflow_scripts/generate.py"


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
        comparison_md=report(
            "results/summary/comparison.md",
            caption="../report/comparison.rst",
            category="Front",
        ),
    log:
        "results/logs/summary.log",
    conda:
        "../envs/core.yaml"
    params:
        objectives=list(OBJECTIVES),
        points=eval_points(),
        costs=method_costs(),
        reference_point=config["summary"]["reference_point"],
        compute_reference=config["summary"]["compute_reference"],
        collapse={
            "min_words": config["evaluation"]["collapse_min_words"],
            "max_repeated_share": config["evaluation"]["collapse_max_repeated_share"],
        },
    script:
        "../workflow_scripts/summary.py"
