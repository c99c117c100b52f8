rule prompts:
    output:
        "results/data/prompts.parquet",
    log:
        "results/logs/prompts.log",
    conda:
        CORE_ENV
    params:
        source=config["prompts"]["source"],
        test_fraction=config["prompts"]["test_fraction"],
        reward_fraction=config["prompts"]["reward_fraction"],
        max_train=config["prompts"]["max_train"],
        max_test=config["prompts"]["max_test"],
        seed=config["seed"],
    script:
        "../workflow_scripts/prompts.py"
