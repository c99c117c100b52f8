

include: "functions/offline.smk"


use rule generate_template as generate_offline with:
    output:
        "results/offline/responses/shard{shard}.parquet",
    log:
        "results/logs/generate_offline/shard{shard}.log",
    benchmark:
        "results/benchmarks/generate_offline/shard{shard}.tsv"
    priority: 1
    params:
        prompts=lambda wc: {
            "split": "train",
            "shard": int(wc.shard),
            "n_shards": config["offline"]["shards"],
        },
        samples_per_prompt=config["offline"]["samples_per_prompt"],
        include_references=config["offline"]["include_references"],
        source="base-model",
        seed=lambda wc: config["seed"] + int(wc.shard),


# Scores answers with reward models (rule judge_offline reuses it for the judges): input
# `responses` (row_id, prompt, response) and the scorer models, params.scorers
# ({objective: scorer_spec}), one output per scorer in its order.
rule score:
    input:
        get_reward_model,
        responses="results/offline/responses/{part}.parquet",
    output:
        "results/offline/scores/{objective}/{part}.parquet",
    log:
        "results/logs/score/offline/{objective}/{part}.log",
    benchmark:
        "results/benchmarks/score/offline/{objective}/{part}.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        **TORCH_RESOURCES,
    params:
        scorers=lambda wc: {wc.objective: scorer_spec(wc.objective)},
        batch_size=config["scoring"]["batch_size"],
        max_length=config["scoring"]["max_length"],
        device=config["device"],
    script:
        workflow_file("workflow_scripts/score.py")


use rule scored_table_template as scored_offline with:
    input:
        responses=expand("results/offline/responses/shard{shard}.parquet", shard=SHARDS),
        scores=expand(
            "results/offline/scores/{objective}/shard{shard}.parquet",
            objective=OBJECTIVES,
            shard=SHARDS,
        ),
    output:
        table="results/offline/scored.parquet",
        stats="results/offline/stats.json",
    log:
        "results/logs/scored_offline.log",
