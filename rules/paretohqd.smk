# ParetoHqD and its ablations (paretohqd_linear, paretohqd_fulldata) per preference:
# select -> SFT (stage 1) -> stage-2 pool from representative models -> select -> SFT (stage 2).


rule select_stage1:
    input:
        table="results/offline/scored.parquet",
    output:
        "results/{variant}/{pref}/stage1/data.parquet",
    log:
        "results/logs/select_stage1/{variant}/{pref}.log",
    conda:
        "../envs/core.yaml"
    params:
        selection=lambda wc: selection_params(wc, config["selection"]["k"]),
    script:
        "../workflow_scripts/select.py"


rule sft_stage1:
    input:
        base_model_input,
        data="results/{variant}/{pref}/stage1/data.parquet",
    output:
        directory("results/{variant}/{pref}/stage1/adapter"),
    log:
        "results/logs/sft_stage1/{variant}/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage1/{variant}/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(config["sft"]["steps"]),
        launch=launch_params(),
        checkpoints="scratch/{variant}/{pref}/stage1",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


rule generate_stage2:
    input:
        base_model_input,
        prompts="results/data/prompts.parquet",
        adapter=lambda wc: stage1_adapter(wc.variant, wc.gen),
    output:
        "results/{variant}/stage2_pool/responses/{gen}.parquet",
    log:
        "results/logs/generate_stage2/{variant}/{gen}.log",
    benchmark:
        "results/benchmarks/generate_stage2/{variant}/{gen}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        prompts={"split": "train", "n": config["stage2"]["prompts"]},
        samples_per_prompt=config["stage2"]["samples_per_prompt"],
        include_references=False,
        source=lambda wc: wc.gen,
        keep_empty=False,
        sampling=config["generation"],
        seed=config["seed"],
    script:
        "../workflow_scripts/generate.py"


rule scored_stage2:
    input:
        responses=lambda wc: expand(
            "results/{variant}/stage2_pool/responses/{gen}.parquet",
            variant=wc.variant,
            gen=stage2_generators(wc.variant),
        ),
        scores=lambda wc: expand(
            "results/{variant}/stage2_pool/scores/{objective}/{gen}.parquet",
            variant=wc.variant,
            objective=OBJECTIVES,
            gen=stage2_generators(wc.variant),
        ),
    output:
        table="results/{variant}/stage2_pool/scored.parquet",
        stats="results/{variant}/stage2_pool/stats.json",
    log:
        "results/logs/scored_stage2/{variant}.log",
    conda:
        "../envs/core.yaml"
    params:
        objectives=list(OBJECTIVES),
    script:
        "../workflow_scripts/scored_table.py"


rule select_stage2:
    input:
        unpack(stage2_selection_input),
    output:
        "results/{variant}/{pref}/stage2/data.parquet",
    log:
        "results/logs/select_stage2/{variant}/{pref}.log",
    conda:
        "../envs/core.yaml"
    params:
        selection=lambda wc: selection_params(wc, STAGE2_K),
    script:
        "../workflow_scripts/select.py"


rule sft_stage2:
    input:
        base_model_input,
        data="results/{variant}/{pref}/stage2/data.parquet",
        adapter=lambda wc: stage1_adapter(wc.variant, wc.pref),
    output:
        directory("results/{variant}/{pref}/stage2/adapter"),
    log:
        "results/logs/sft_stage2/{variant}/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage2/{variant}/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(STAGE2_STEPS),
        launch=launch_params(),
        checkpoints="scratch/{variant}/{pref}/stage2",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"
