# ParetoHqD per preference: select -> SFT (stage 1) -> stage-2 data -> select -> SFT (stage 2).


rule select_stage1:
    input:
        table="results/offline/scored.parquet",
    output:
        "results/paretohqd/{pref}/stage1/data.parquet",
    log:
        "results/logs/select_stage1/{pref}.log",
    conda:
        "../envs/core.yaml"
    params:
        selection=lambda wc: selection_params(wc, config["selection"]["k"]),
    script:
        "../workflow_scripts/select.py"


rule sft_stage1:
    input:
        base_model_input,
        data="results/paretohqd/{pref}/stage1/data.parquet",
    output:
        directory("results/paretohqd/{pref}/stage1/adapter"),
    log:
        "results/logs/sft_stage1/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage1/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    params:
        **policy_params(),
        sft=sft_params(config["sft"]["steps"]),
        checkpoints="scratch/paretohqd/{pref}/stage1",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


rule generate_stage2:
    input:
        base_model_input,
        prompts="results/data/prompts.parquet",
        adapter="results/paretohqd/{pref}/stage1/adapter",
    output:
        "results/stage2/responses/{pref}.parquet",
    log:
        "results/logs/generate_stage2/{pref}.log",
    benchmark:
        "results/benchmarks/generate_stage2/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    params:
        **policy_params(),
        prompts={"split": "train", "n": config["stage2"]["prompts"]},
        samples_per_prompt=config["stage2"]["samples_per_prompt"],
        include_references=False,
        source=lambda wc: wc.pref,
        keep_empty=False,
        sampling=config["generation"],
        seed=config["seed"],
    script:
        "../workflow_scripts/generate.py"


rule scored_stage2:
    input:
        responses=expand(
            "results/stage2/responses/{pref}.parquet", pref=REPRESENTATIVES
        ),
        scores=expand(
            "results/stage2/scores/{objective}/{pref}.parquet",
            objective=OBJECTIVES,
            pref=REPRESENTATIVES,
        ),
    output:
        table="results/stage2/scored.parquet",
        stats="results/stage2/stats.json",
    log:
        "results/logs/scored_stage2.log",
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
        "results/paretohqd/{pref}/stage2/data.parquet",
    log:
        "results/logs/select_stage2/{pref}.log",
    conda:
        "../envs/core.yaml"
    params:
        selection=lambda wc: selection_params(wc, STAGE2_K),
    script:
        "../workflow_scripts/select.py"


rule sft_stage2:
    input:
        base_model_input,
        data="results/paretohqd/{pref}/stage2/data.parquet",
        adapter="results/paretohqd/{pref}/stage1/adapter",
    output:
        directory("results/paretohqd/{pref}/stage2/adapter"),
    log:
        "results/logs/sft_stage2/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage2/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    params:
        **policy_params(),
        sft=sft_params(STAGE2_STEPS),
        checkpoints="scratch/paretohqd/{pref}/stage2",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"
