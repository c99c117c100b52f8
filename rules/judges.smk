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
    # the reward model's params, but for these
    params:
        base=config["evaluation"]["judges"]["base"] or config["reward_training"]["base"],
        conversation_pairs=False,
        scratch="scratch/judge_model/{objective}",
        part="judge",
        judge_fraction=JUDGE_FRACTION,


use rule score as judge_offline with:
    input:
        get_judge_models,
        responses="results/offline/scored.parquet",
    output:
        judge_outputs("results/judges/offline/{objective}.parquet"),
    log:
        "results/logs/judge_offline.log",
    benchmark:
        "results/benchmarks/judge_offline/judge_offline.tsv"
    params:
        scorers=judge_scorers(),
