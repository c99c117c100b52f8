# MODPO: per preference, DPO on pairs ranked by the main objective with the other objectives'
# weighted reward difference as the margin (paretohqd/methods/modpo/).
from paretohqd.methods.modpo.config import MODPOSettings


rule train_modpo:
    input:
        get_base_model,
        data="results/offline/scored.parquet",
    output:
        directory("results/modpo/seed{seed}/{pref}/adapter"),
    log:
        "results/logs/train_modpo/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/train_modpo/seed{seed}/{pref}.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        **TORCH_RESOURCES,
    params:
        **policy_source(),
        settings=lambda wc: asdict(MODPOSettings.from_config(config, get_job_seed(wc))),
        objectives=list(OBJECTIVES),
        weights=lambda wc: PREFERENCES[wc.pref],
        normalisation=config["selection"]["normalisation"],
        checkpoints=get_checkpoint_dir,
    script:
        workflow_file("workflow_scripts/modpo.py")


register_method(
    "modpo",
    model=rules.train_modpo.output[0],
    train=benchmarks(rules.train_modpo, pref=PREFERENCES),
    data={"offline rows, paired per prompt": "results/offline/scored.parquet"},
    recipe={
        "pairs": "ranked by the main objective, the others' weighted difference as margin",
        "beta": config["baselines"]["modpo"]["beta"],
        "steps": config["baselines"]["modpo"]["steps"],
    },
)
