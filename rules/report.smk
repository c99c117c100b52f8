# What `snakemake --report` shows beyond the summary's plot and table and the reward models'
# metrics: every evaluated model's answers to a few fixed test prompts, side by side.


rule answers:
    input:
        unpack(answer_files),
    output:
        report(
            "results/summary/answers.html",
            caption="../report/answers.rst",
            category="Answers",
        ),
    log:
        "results/logs/answers.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        points=answer_points(),
        prompts=config["report"]["prompts"],
        seed=SEEDS[0],
    script:
        "../workflow_scripts/answers.py"
