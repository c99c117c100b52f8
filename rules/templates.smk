# Rule bodies that several rules share: each rule below is a template that never runs itself
# (its output pattern matches no file); rules reuse one with
#   use rule <template> as <rule> with:
# giving input, output, log, benchmark and the params that differ (params merge by name).
# Script and conda paths are absolute (workflow_file), as `use rule` resolves relative ones
# from the reusing file.


rule sft_template:
    """Template: LoRA SFT of the base model on input `data` (a table with prompt and response),
    continuing input `adapter` when given; params.settings defaults to sft.steps steps.
    """
    input:
        base_model_input,
    output:
        directory("templates/sft/{never,(?!)}"),
    log:
        "results/logs/templates/sft/{never}.log",
    benchmark:
        "results/benchmarks/templates/sft/{never}.tsv"
    conda:
        workflow_file("envs/torch.yaml")
    threads: TORCH_THREADS
    resources:
        gpu=TRAIN_GPUS,
    params:
        **policy_source(),
        settings=sft_settings(config["sft"]["steps"]),
        launch=launch_params(),
        checkpoints=checkpoint_dir,
    script:
        workflow_file("workflow_scripts/sft.py")


rule generate_template:
    """Template: sample responses from the base model (with input `adapter` when given) for
    the prompts params.prompts picks; every rule gives params.prompts and params.source.
    """
    input:
        base_model_input,
        prompts="results/data/prompts.parquet",
    output:
        "templates/generate/{never,(?!)}.parquet",
    log:
        "results/logs/templates/generate/{never}.log",
    benchmark:
        "results/benchmarks/templates/generate/{never}.tsv"
    conda:
        workflow_file("envs/torch.yaml")
    threads: TORCH_THREADS
    resources:
        gpu=GPUS,
    params:
        **policy_params(),
        samples_per_prompt=1,
        include_references=False,
        keep_empty=False,
        sampling=config["generation"],
        seed=config["seed"],
    script:
        workflow_file("workflow_scripts/generate.py")


rule select_template:
    """Template: select one preference's training rows from a scored `table` (default the
    offline data); every rule gives params.selection (selection_params)."""
    input:
        table="results/offline/scored.parquet",
    output:
        "templates/select/{never,(?!)}.parquet",
    log:
        "results/logs/templates/select/{never}.log",
    conda:
        workflow_file("envs/core.yaml")
    script:
        workflow_file("workflow_scripts/select.py")


rule scored_table_template:
    """Template: join the `responses` tables and every objective's `scores` of them into one
    scored table and its reward statistics."""
    output:
        table="templates/scored/{never,(?!)}.parquet",
        stats="templates/scored/{never}.json",
    log:
        "results/logs/templates/scored/{never}.log",
    conda:
        workflow_file("envs/core.yaml")
    params:
        objectives=list(OBJECTIVES),
    script:
        workflow_file("workflow_scripts/scored_table.py")
