# MORLHF: per preference, online RL (GRPO) on the reward w . r with the reward models as reward
# functions (paretohqd/methods/morlhf/). Its generation happens inside its GRPO steps, so all of its
# compute is training.
from paretohqd.methods.morlhf.config import MORLHFSettings


rule train_morlhf:
    input:
        get_base_model,
        get_reward_models,
        prompts="results/data/prompts.parquet",
        stats="results/offline/stats.json",
    output:
        directory("results/morlhf/seed{seed}/{pref}/adapter"),
    log:
        "results/logs/train_morlhf/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/train_morlhf/seed{seed}/{pref}.tsv"
    conda:
        TORCH_ENV
    threads: TORCH_THREADS
    resources:
        **TORCH_RESOURCES,
    params:
        **policy_source(),
        settings=lambda wc: asdict(MORLHFSettings.from_config(config, get_job_seed(wc))),
        scorers={name: scorer_spec(name) for name in OBJECTIVES},
        scoring=config["scoring"],
        weights=lambda wc: PREFERENCES[wc.pref],
        checkpoints=get_checkpoint_dir,
    script:
        workflow_file("workflow_scripts/morlhf.py")


register_method(
    "morlhf",
    model=rules.train_morlhf.output[0],
    train=benchmarks(rules.train_morlhf, pref=PREFERENCES),
    recipe={
        "training": "online GRPO on the reward w . r (no offline data)",
        "steps": config["baselines"]["morlhf"]["steps"],
        "generations per prompt": config["baselines"]["morlhf"]["generations"],
        "prompts per step": config["baselines"]["morlhf"]["prompts_per_step"],
        "KL beta": config["baselines"]["morlhf"]["kl_beta"],
    },
)
