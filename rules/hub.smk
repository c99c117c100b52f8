# Hub-ready models: every evaluated adapter (paretohqd.registry) copied with its tokenizer and a
# model card (preference, reward models, training data, measured rewards with 95% intervals,
# the command that made it) into results/hub/<method>/seed<seed>/<pref>/. After the summary,
# which measures the rewards; one job for every model, as any change that re-runs one of them
# re-runs the summary, and with it all.
from paretohqd.publishing.cards import reproduce_command, reward_model_names


include: "functions/hub.smk"


rule hub:
    input:
        unpack(get_hub_input),
        get_base_model,
    output:
        directory("results/hub"),
    log:
        "results/logs/hub.log",
    conda:
        TORCH_ENV
    params:
        models=published_models(),
        reward_models=reward_model_names(
            config["objectives"],
            {name: reward_model_dir(name) for name in TRAINED_OBJECTIVES},
            config["reward_training"]["base"],
        ),
        base={
            "card": config["hub"]["base_model"] or config["base_model"]["source"],
            "gguf_file": config["base_model"]["gguf_file"],
            "path": base_model_path(),
        },
        command=reproduce_command(
            workflow.main_snakefile,
            workflow.config_settings.configfiles,
            workflow.config_settings.config_args,
            os.getcwd(),
        ),
    script:
        workflow_file("workflow_scripts/hub.py")
