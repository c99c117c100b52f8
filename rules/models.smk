from paretohqd.rewards.config import RewardTrainingSettings


include: "functions/models.smk"


rule base_model:
    output:
        directory(BASE_MODEL_DIR),
    log:
        "results/logs/base_model.log",
    benchmark:
        "results/benchmarks/base_model/base_model.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    params:
        source=config["base_model"]["source"],
        gguf_file=config["base_model"]["gguf_file"],
    script:
        workflow_file("workflow_scripts/base_model.py")


rule reward_model:
    input:
        prompts="results/data/prompts.parquet",
    output:
        model=directory("results/reward_models/{objective}/model"),
        metrics="results/reward_models/{objective}/metrics.json",
    log:
        "results/logs/reward_model/{objective}.log",
    benchmark:
        "results/benchmarks/reward_model/{objective}.tsv"
    # the longest offline jobs first, so that nothing waits for them at the end
    priority: 2
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        **TORCH_RESOURCES,
    params:
        recipe=lambda wc: OBJECTIVES[wc.objective]["train_recipe"],
        base=config["reward_training"]["base"],
        test_fraction=config["reward_training"]["test_fraction"],
        conversation_pairs=config["reward_training"]["conversation_pairs"],
        settings=asdict(RewardTrainingSettings.from_config(config)),
        scratch="scratch/reward_model/{objective}",
        part="reward",
        judge_fraction=get_reward_label_fraction,
    script:
        workflow_file("workflow_scripts/reward_model.py")
