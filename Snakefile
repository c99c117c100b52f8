# ParetoHqD: offline multi-objective alignment with Pareto high-quality data.
# Config: config/config.yaml (schema: schemas/config.schema.yaml). Rules live in rules/*.smk:
# common.smk (setup, constants, shared params), registry.smk (the method registry),
# templates.smk (shared rule bodies), one file per stage, and every method's in its own file
# under rules/methods/ (docs/EXTENDING.md).
import glob
import os


configfile: os.path.join(workflow.basedir, "config/config.yaml")


# the report's landing page: what the run found (rules/report.smk, rule landing)
report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/registry.smk"
include: "rules/templates.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/offline.smk"
include: "rules/judges.smk"


for method_rules in sorted(
    glob.glob(os.path.join(workflow.basedir, "rules/methods/*.smk"))
):

    include: method_rules


include: "rules/evaluation.smk"
include: "rules/serving.smk"
include: "rules/hub.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        "results/summary/front.csv",
        "results/summary/metrics.json",
        "results/summary/front.png",
        "results/summary/compute.md",
        "results/summary/selection.md",
        "results/models/index.json",
        "results/summary/answers.html",
        # the report's landing page (report/workflow.rst includes it)
        "results/summary/landing.rst",
        "results/hub",
        expand(
            "results/reward_models/{objective}/metrics.json",
            objective=TRAINED_OBJECTIVES,
        ),
        # the report's reward-model page, when the workflow trains any
        (["results/reward_models/metrics.html"] if TRAINED_OBJECTIVES else []),
        # the held-out prompt sets' summaries and drops, when the config names any
        (["results/summary/heldout/drops.md"] if HELDOUT else []),


rule offline_data:
    input:
        "results/offline/scored.parquet",
        expand(
            "results/reward_models/{objective}/metrics.json",
            objective=TRAINED_OBJECTIVES,
        ),
        rules.judge_offline.output,
