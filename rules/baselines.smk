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
    params:
        **policy_params(),
        sft=sft_params(config["baselines"]["sft_steps"]),
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
    params:
        **policy_params(),
        sft=sft_params(config["sft"]["steps"]),
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
    params:
        **policy_params(),
        sft=sft_params(config["baselines"]["ric_steps"]),
        checkpoints="scratch/ric",
        seed=config["seed"],
    script:
        "../workflow_scripts/sft.py"
