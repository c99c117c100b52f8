# Baselines on the same scored data, base model and evaluation as ParetoHqD.


rule sft_full:
    input:
        base_model_input,
        data="results/offline/scored.parquet",
    output:
        directory(SFT_ADAPTER),
    log:
        "results/logs/sft_full.log",
    benchmark:
        "results/benchmarks/sft_full/sft.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(BASELINES["sft_steps"]),
        launch=launch_params(),
        checkpoints="scratch/sft",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


rule select_objective:
    input:
        table="results/offline/scored.parquet",
    output:
        "results/rewarded_soups/objectives/{objective}/data.parquet",
    log:
        "results/logs/select_objective/{objective}.log",
    conda:
        "../envs/core.yaml"
    params:
        selection=objective_selection_params,
    script:
        "../workflow_scripts/select.py"


rule sft_objective:
    input:
        base_model_input,
        data="results/rewarded_soups/objectives/{objective}/data.parquet",
    output:
        directory("results/rewarded_soups/objectives/{objective}/adapter"),
    log:
        "results/logs/sft_objective/{objective}.log",
    benchmark:
        "results/benchmarks/sft_objective/{objective}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(config["sft"]["steps"]),
        launch=launch_params(),
        checkpoints="scratch/rewarded_soups/{objective}",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


rule soup:
    input:
        base_model_input,
        adapters=expand(
            "results/rewarded_soups/objectives/{objective}/adapter",
            objective=OBJECTIVES,
        ),
    output:
        directory("results/rewarded_soups/{pref}/adapter"),
    log:
        "results/logs/soup/{pref}.log",
    benchmark:
        "results/benchmarks/soup/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    params:
        weights=lambda wc: PREFERENCES[wc.pref],
        model=base_model_path(),
    script:
        "../workflow_scripts/soup.py"


rule ric_data:
    input:
        table="results/offline/scored.parquet",
    output:
        data="results/ric/data.parquet",
        stats="results/ric/stats.json",
    log:
        "results/logs/ric_data.log",
    conda:
        "../envs/core.yaml"
    params:
        objectives=list(OBJECTIVES),
    script:
        "../workflow_scripts/ric_data.py"


rule sft_ric:
    input:
        base_model_input,
        data="results/ric/data.parquet",
    output:
        directory("results/ric/adapter"),
    log:
        "results/logs/sft_ric.log",
    benchmark:
        "results/benchmarks/sft_ric/ric.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(BASELINES["ric_steps"]),
        launch=launch_params(),
        checkpoints="scratch/ric",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


# RiC's online stage: multi-objective rejection sampling, then more fine-tuning.
rule generate_ric_online:
    input:
        base_model_input,
        prompts="results/data/prompts.parquet",
        adapter="results/ric/adapter",
        ric_stats="results/ric/stats.json",
    output:
        "results/ric/online/responses/pool.parquet",
    log:
        "results/logs/generate_ric_online.log",
    benchmark:
        "results/benchmarks/generate_ric_online/ric.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        prompts={"split": "train", "n": BASELINES["ric_online_prompts"]},
        samples_per_prompt=1,
        include_references=False,
        source="ric_online",
        keep_empty=False,
        conditioning={"objectives": list(OBJECTIVES), "random": True},
        sampling=config["generation"],
        seed=config["seed"],
    script:
        "../workflow_scripts/generate.py"


rule ric_online_data:
    input:
        responses="results/ric/online/responses/pool.parquet",
        scores=expand(
            "results/ric/online/scores/{objective}/pool.parquet", objective=OBJECTIVES
        ),
        stats="results/ric/stats.json",
    output:
        "results/ric/online/data.parquet",
    log:
        "results/logs/ric_online_data.log",
    conda:
        "../envs/core.yaml"
    params:
        objectives=list(OBJECTIVES),
        quantile=BASELINES["ric_online_quantile"],
    script:
        "../workflow_scripts/ric_online_data.py"


rule sft_ric_online:
    input:
        base_model_input,
        data="results/ric/online/data.parquet",
        adapter="results/ric/adapter",
    output:
        directory("results/ric/online/adapter"),
    log:
        "results/logs/sft_ric_online.log",
    benchmark:
        "results/benchmarks/sft_ric_online/ric.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_params(),
        sft=sft_params(BASELINES["ric_online_steps"]),
        launch=launch_params(),
        checkpoints="scratch/ric_online",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"


rule train_modpo:
    input:
        base_model_input,
        data="results/offline/scored.parquet",
    output:
        directory("results/modpo/{pref}/adapter"),
    log:
        "results/logs/train_modpo/{pref}.log",
    benchmark:
        "results/benchmarks/train_modpo/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        sft=sft_params(BASELINES["modpo_steps"]),
        beta=BASELINES["modpo_beta"],
        objectives=list(OBJECTIVES),
        weights=lambda wc: PREFERENCES[wc.pref],
        normalisation=config["selection"]["normalisation"],
        checkpoints="scratch/modpo/{pref}",
        seed=config["seed"],
    script:
        "../workflow_scripts/modpo.py"


rule train_morlhf:
    input:
        base_model_input,
        all_reward_models,
        prompts="results/data/prompts.parquet",
        stats="results/offline/stats.json",
    output:
        directory("results/morlhf/{pref}/adapter"),
    log:
        "results/logs/train_morlhf/{pref}.log",
    benchmark:
        "results/benchmarks/train_morlhf/{pref}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        sft=sft_params(BASELINES["morlhf_steps"]),
        morlhf={
            "num_generations": BASELINES["morlhf_generations"],
            "prompts_per_step": BASELINES["morlhf_prompts_per_step"],
            "kl_beta": BASELINES["morlhf_kl_beta"],
            "temperature": config["generation"]["temperature"],
            "top_p": config["generation"]["top_p"],
            "max_new_tokens": config["generation"]["max_new_tokens"],
        },
        scorers={name: scorer_spec(name) for name in OBJECTIVES},
        scoring=config["scoring"],
        weights=lambda wc: PREFERENCES[wc.pref],
        checkpoints="scratch/morlhf/{pref}",
        seed=config["seed"],
    script:
        "../workflow_scripts/morlhf.py"
