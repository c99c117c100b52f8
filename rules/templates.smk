# Rule bodies that several rules share: each rule below is a template that never runs itself
# (its output pattern matches no file); rules reuse one with
#   use rule <template> as <rule> with:
# giving input, output, log, benchmark and the params that differ (params merge by name).
# Script and environment paths are absolute (workflow_file, CORE_ENV, TORCH_ENV), as `use rule`
# resolves relative ones from the reusing file.


# Rules give input `data` (a table with prompt and response) and, to continue one, `adapter`;
# params.settings defaults to sft.steps steps (get_sft_settings); the training seed is the
# job's {seed}.
rule sft_template:
    """LoRA SFT of the base model (or of an adapter) on prompt/response rows."""
    input:
        get_base_model,
    output:
        directory("templates/sft/{never,(?!)}"),
    log:
        "results/logs/templates/sft/{never}.log",
    benchmark:
        "results/benchmarks/templates/sft/{never}.tsv"
    conda:
        TORCH_ENV
    threads: TRAIN_THREADS
    resources:
        **TRAIN_RESOURCES,
    params:
        **policy_source(),
        settings=get_sft_settings(config["sft"]["steps"]),
        launch=launch_params(),
        checkpoints=get_checkpoint_dir,
    script:
        workflow_file("workflow_scripts/sft.py")


# Rules give params.prompts (which prompts) and params.source, and input `adapter` for a tuned
# model; params.conditioning (a registered Conditioning) rewrites the prompts the model sees.
# The sampling seed is the job's {seed}, or the global seed for a shared job.
rule generate_template:
    """Sample responses to prompts from the base model (with an adapter, if any)."""
    input:
        get_base_model,
        prompts="results/data/prompts.parquet",
    output:
        "templates/generate/{never,(?!)}.parquet",
    log:
        "results/logs/templates/generate/{never}.log",
    benchmark:
        "results/benchmarks/templates/generate/{never}.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        **TORCH_RESOURCES,
    params:
        **policy_params(),
        samples_per_prompt=1,
        include_references=False,
        keep_empty=False,
        sampling=config["generation"],
        seed=get_job_seed,
    script:
        workflow_file("workflow_scripts/generate.py")


# Rules give params.selection (selection_params) and input `table` unless the offline data.
rule select_template:
    """Select one preference's training rows from a scored table."""
    input:
        table="results/offline/scored.parquet",
    output:
        "templates/select/{never,(?!)}.parquet",
    log:
        "results/logs/templates/select/{never}.log",
    conda:
        CORE_ENV
    script:
        workflow_file("workflow_scripts/select.py")


# Rules give input `responses` (tables) and `scores` (every objective's, of each table).
rule scored_table_template:
    """Join answers and every objective's scores of them into one table and its statistics."""
    output:
        table="templates/scored/{never,(?!)}.parquet",
        stats="templates/scored/{never}.json",
    log:
        "results/logs/templates/scored/{never}.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
    script:
        workflow_file("workflow_scripts/scored_table.py")


# Rules give input `adapters` (LoRA adapters of the base model) and params.weights (one per
# adapter).
rule merge_template:
    """The exact weighted merge of LoRA adapters into one (paretohqd/policy/merging.py)."""
    input:
        get_base_model,
    output:
        directory("templates/merge/{never,(?!)}"),
    log:
        "results/logs/templates/merge/{never}.log",
    benchmark:
        "results/benchmarks/templates/merge/{never}.tsv"
    conda:
        TORCH_ENV
    params:
        model=base_model_path(),
    script:
        workflow_file("workflow_scripts/merge_adapters.py")
