# What `snakemake --report` shows beyond the summary's plot and comparison page: the landing
# page's findings, every evaluated model's answers to a few fixed test prompts, side by side,
# and the reward models' metrics.


include: "functions/report.smk"


# The landing page's findings (report/workflow.rst, the Snakefile's `report:`, includes them):
# the front figure and each method's hypervolume with its interval, from the summary
# (paretohqd/evaluation/landing.py).
rule landing:
    input:
        metrics=rules.summary.output.metrics,
        png=rules.summary.output.png,
    output:
        "results/summary/landing.rst",
    log:
        "results/logs/landing.log",
    conda:
        CORE_ENV
    script:
        workflow_file("workflow_scripts/landing.py")


rule answers:
    input:
        unpack(get_answer_files),
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
        points=plain_points(answer_points()),
        prompts=config["report"]["prompts"],
        seed=SEEDS[0],
    script:
        workflow_file("workflow_scripts/answers.py")


rule reward_models_page:
    input:
        expand(
            "results/reward_models/{objective}/metrics.json",
            objective=TRAINED_OBJECTIVES,
        ),
        expand(rules.judge_model.output.metrics, objective=trained_judges()),
    output:
        report(
            "results/reward_models/metrics.html",
            caption="../report/reward_models.rst",
            category="Reward models",
        ),
    log:
        "results/logs/reward_models_page.log",
    conda:
        CORE_ENV
    params:
        base=config["reward_training"]["base"],
    script:
        workflow_file("workflow_scripts/reward_models_page.py")
