

include: "functions/data.smk"


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
        workflow_file("workflow_scripts/prompts.py")


# A held-out prompt set (evaluation.heldout_sets): loaded, made disjoint from every prompt of
# the run and of its reward models' labels (exact and near duplicates removed, listed with the
# prompt each matched), sampled (paretohqd/data/heldout.py).
rule heldout_prompts:
    input:
        prompts="results/data/prompts.parquet",
    output:
        prompts="results/data/heldout/{heldout}.parquet",
        removed="results/data/heldout/{heldout}_removed.csv",
    log:
        "results/logs/heldout_prompts/{heldout}.log",
    conda:
        CORE_ENV
    params:
        name=lambda wc: wc.heldout,
        spec=lambda wc: HELDOUT[wc.heldout],
        recipes=label_recipes(),
        seed=config["seed"],
    script:
        workflow_file("workflow_scripts/heldout_prompts.py")
