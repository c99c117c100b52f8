# Independent judges (evaluation.judges): per objective a scorer that no method trains or
# selects on, used only to grade. The workflow trains one like the objective's reward model on
# the labelled prompts held out from it; the judges score the offline data (the frame of the
# judged hypervolume) here and every evaluation answer in the job that generates it
# (rules/evaluation.smk), and the summary grades every method twice.


use rule reward_model as judge_model with:
    output:
        model=directory("results/judges/{objective}/model"),
        metrics="results/judges/{objective}/metrics.json",
    log:
        "results/logs/judge_model/{objective}.log",
    benchmark:
        "results/benchmarks/judge_model/{objective}.tsv"
    params:
        recipe=lambda wc: OBJECTIVES[wc.objective]["train_recipe"],
        base=config["evaluation"]["judges"]["base"] or config["reward_training"]["base"],
        test_fraction=config["reward_training"]["test_fraction"],
        conversation_pairs=False,
        settings=asdict(RewardTrainingSettings.from_config(config)),
        scratch="scratch/judge_model/{objective}",
        part="judge",
        judge_fraction=JUDGE_FRACTION,


rule judge_offline:
    input:
        all_judge_models,
        responses="results/offline/scored.parquet",
    output:
        judge_outputs("results/judges/offline/{objective}.parquet"),
    log:
        "results/logs/judge_offline.log",
    benchmark:
        "results/benchmarks/judge_offline/judge_offline.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        scorers=judge_scorers(),
        batch_size=config["scoring"]["batch_size"],
        max_length=config["scoring"]["max_length"],
        device=config["device"],
    script:
        "../workflow_scripts/score.py"
