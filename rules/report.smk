# What `snakemake --report` shows beyond the summary's plot and table and the reward models'
# metrics: every evaluated model's answers to a few fixed test prompts, side by side.


rule answers:
    input:
        responses=[
            f"results/eval/{m}/seed{s}/responses/{p}.parquet"
            for m, p, s, _ in answer_points()
        ],
        scores=[
            f"results/eval/{m}/seed{s}/scores/{o}/{p}.parquet"
            for m, p, s, _ in answer_points()
            for o in OBJECTIVES
        ],
    output:
        report(
            "results/summary/answers.html",
            caption="../report/answers.rst",
            category="Answers",
        ),
    log:
        "results/logs/answers.log",
    conda:
        "../envs/core.yaml"
    params:
        objectives=list(OBJECTIVES),
        points=answer_points(),
        prompts=config["report"]["prompts"],
        seed=SEEDS[0],
    script:
        "../workflow_scripts/answers.py"
