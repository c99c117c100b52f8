# What a finished run serves: the index of its adapters that the `paretohqd` CLI reads
# (generate, export), so that the CLI never reads the workflow.


include: "functions/serving.smk"


rule model_index:
    output:
        "results/models/index.json",
    log:
        "results/logs/model_index.log",
    conda:
        CORE_ENV
    params:
        index=model_index_params(),
    script:
        workflow_file("workflow_scripts/model_index.py")
