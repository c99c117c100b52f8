# Rewards-in-Context: one LoRA on every offline row with its z-scored rewards written into the
# prompt, steered per preference at inference (paretohqd/methods/ric/). With baselines.ric.online,
# its online stage: multi-objective rejection sampling of its own answers, then more SFT. The
# training data is shared; the LoRA and its online stage are per training seed.
from paretohqd.methods.ric.config import online_source as ric_online_source
from paretohqd.methods.ric.config import online_rounds
from paretohqd.methods.ric.config import round_seed as ric_round_seed
from paretohqd.registry import Conditioning


include: "../functions/ric.smk"


RIC = config["baselines"]["ric"]
# how every RiC generation writes the desired rewards into the prompt
RIC_CONDITIONING = "paretohqd.methods.ric:condition_prompts"
# the rewards a preference asks for (the summary correlates them with those obtained)
RIC_TARGETS = "paretohqd.methods.ric:desired_rewards"


rule ric_data:
    input:
        table="results/offline/scored.parquet",
    output:
        data="results/ric/data.parquet",
        stats="results/ric/stats.json",
    log:
        "results/logs/ric_data.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        reference=RIC["reference"],
        seed=config["seed"],
    script:
        workflow_file("workflow_scripts/ric_data.py")


use rule sft_template as sft_ric with:
    input:
        get_base_model,
        data=rules.ric_data.output.data,
    output:
        directory("results/ric/seed{seed}/adapter"),
    log:
        "results/logs/sft_ric/seed{seed}.log",
    benchmark:
        "results/benchmarks/sft_ric/seed{seed}.tsv"
    params:
        settings=get_sft_settings(RIC["steps"]),


# The online stage, in rounds: answers for random desired rewards, kept when they score high on
# any objective, each with its own rewards in the prompt; the LoRA continues on every answer kept
# so far and on a replay of offline rows that pass the same test, at its own learning rate and
# schedule (RiC's main.py). Round r asks the model of round r - 1 (round 1: the offline model).
# (none without baselines.ric.online)
RIC_ROUNDS = online_rounds(RIC)
ONLINE = "results/ric/seed{seed}/online/round{round}"


# the adapter an online round starts from: the offline RiC model, then the last round's
get_round_adapter = get_previous_round(rules.sft_ric.output[0], f"{ONLINE}/adapter")


use rule generate_template as generate_ric_online with:
    input:
        get_base_model,
        get_reward_models,
        prompts="results/data/prompts.parquet",
        adapter=get_round_adapter,
        conditioning=rules.ric_data.output.stats,
    output:
        responses=f"{ONLINE}/responses/pool.parquet",
        scores=score_outputs(f"{ONLINE}/scores/{{objective}}/pool.parquet"),
    log:
        "results/logs/generate_ric_online/seed{seed}/round{round}.log",
    benchmark:
        "results/benchmarks/generate_ric_online/seed{seed}/round{round}.tsv"
    params:
        **scoring_params(),
        prompts={"split": "train", "n": RIC["online_prompts"]},
        source=lambda wc: ric_online_source(int(wc.round)),
        seed=lambda wc: ric_round_seed(get_job_seed(wc), int(wc.round)),
        conditioning={
            "function": RIC_CONDITIONING,
            "objectives": list(OBJECTIVES),
            "weights": None,
        },


rule ric_online_data:
    input:
        responses=get_rounds_so_far(f"{ONLINE}/responses/pool.parquet"),
        scores=get_rounds_so_far(f"{ONLINE}/scores/{{objective}}/pool.parquet"),
        stats=rules.ric_data.output.stats,
        offline=rules.ric_data.input.table,
        ric_rows=rules.ric_data.output.data,
    output:
        f"{ONLINE}/data.parquet",
    log:
        "results/logs/ric_online_data/seed{seed}/round{round}.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        quantile=RIC["online_quantile"],
        replay=RIC["online_replay"],
        seed=lambda wc: int(wc.seed),
    script:
        workflow_file("workflow_scripts/ric_online_data.py")


use rule sft_template as sft_ric_online with:
    input:
        get_base_model,
        data=rules.ric_online_data.output[0],
        adapter=get_round_adapter,
    output:
        directory(f"{ONLINE}/adapter"),
    log:
        "results/logs/sft_ric_online/seed{seed}/round{round}.log",
    benchmark:
        "results/benchmarks/sft_ric_online/seed{seed}/round{round}.tsv"
    params:
        settings=get_sft_settings(
            RIC["online_steps"],
            learning_rate=RIC["online_learning_rate"],
            lr_scheduler=RIC["online_schedule"],
        ),


# RiC's reported model and its online stage's kept answers: the last online round's (none
# without the online stage, and then the offline LoRA alone)
LAST_ROUND = RIC_ROUNDS[-1:]
(RIC_MODEL,) = expand(
    rules.sft_ric_online.output[0], round=LAST_ROUND, allow_missing=True
) or [rules.sft_ric.output[0]]
KEPT_ANSWERS = {
    "online stage: kept answers": path
    for path in expand(
        rules.ric_online_data.output[0], round=LAST_ROUND, allow_missing=True
    )
}


register_method(
    "ric",
    model=RIC_MODEL,
    conditioning=Conditioning(
        RIC_CONDITIONING,
        str(rules.ric_data.output.stats),
        options={"map": RIC["map"]},
        targets=RIC_TARGETS,
    ),
    train=benchmarks(rules.sft_ric)
    + benchmarks(rules.sft_ric_online, round=RIC_ROUNDS),
    generate=benchmarks(rules.generate_ric_online, round=RIC_ROUNDS),
    data={
        "every offline row, its rewards in the prompt": rules.ric_data.output.data,
        **KEPT_ANSWERS,
    },
    recipe={
        "preference map": RIC["map"],
        "steps": RIC["steps"],
        "online stage": RIC["online"],
        "online rounds": len(RIC_ROUNDS),
    },
)
