# ParetoHqD and its ablations, per preference: select (Pareto layers + preference direction)
# -> SFT (stage 1) -> a stage-2 pool written by representative stage-1 models -> select -> SFT
# (stage 2). Each variant is one `methods:` entry and one chain under results/<variant>/: the
# stage-1 selections are shared, everything from stage-1 training on runs per training seed
# (results/<variant>/seed<seed>/).
from paretohqd.methods.paretohqd.config import (
    stage1_recipe,
    stage2_frame,
    stage2_k,
    stage2_steps,
    variant_recipe,
)
from paretohqd.selection import LINEAR, LINEAR_POOL, representatives

STAGE2_K = stage2_k(config)
STAGE2_STEPS = stage2_steps(config)
SHARED = (
    "shared"  # the stage-2 generator of a variant whose stage 1 is one shared model
)
REPRESENTATIVES = representatives(PREFERENCES, len(OBJECTIVES))
# Per variant: the selection mode of both stages; the stage-1 model that stage 2 continues;
# who writes the stage-2 pool (the M+1 representative stage-1 models, or the one shared
# model); whether stage 2 also trains on the stage-1 set; and the method whose run is its
# stage 1, if not its own (paretohqd_fulldata: the `sft` model, SFT on all offline data).
OWN_STAGE1 = "results/{variant}/seed{seed}/{pref}/stage1/adapter"
PARETOHQD = {
    variant: {
        "mode": mode,
        "stage1": OWN_STAGE1.replace("{variant}", variant),
        "generators": REPRESENTATIVES,
        "mix_stage1": config["stage2"]["mix_stage1"],
        "stands_on": [],
    }
    for variant, mode in [
        ("paretohqd", config["selection"]["mode"]),
        ("paretohqd_linear", LINEAR_POOL),
        ("paretohqd_linear_all", LINEAR),
    ]
}
PARETOHQD["paretohqd_fulldata"] = {
    "mode": config["selection"]["mode"],
    "stage1": "results/sft/seed{seed}/adapter",
    "generators": [SHARED],
    "mix_stage1": False,
    "stands_on": ["sft"],
}
# stage2.frame offline: stage 2 normalises with the offline data's frame, from its statistics
# or (with selection.frame_quantile) from its table (stage2_frame); else from its own pool
STAGE2_FRAME = stage2_frame(config)


wildcard_constraints:
    variant="|".join(PARETOHQD),
    gen="|".join([r"p\d{3}(_\d{3})+", SHARED]),


use rule select_template as select_stage1 with:
    output:
        "results/{variant}/{pref}/stage1/data.parquet",
    log:
        "results/logs/select_stage1/{variant}/{pref}.log",
    params:
        selection=lambda wc: selection_params(
            PREFERENCES[wc.pref],
            config["selection"]["k"],
            PARETOHQD[wc.variant]["mode"],
        ),


use rule sft_template as sft_stage1 with:
    input:
        get_base_model,
        data=rules.select_stage1.output[0],
    output:
        directory("results/{variant}/seed{seed}/{pref}/stage1/adapter"),
    log:
        "results/logs/sft_stage1/{variant}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage1/{variant}/seed{seed}/{pref}.tsv"


use rule generate_template as generate_stage2 with:
    input:
        get_base_model,
        get_reward_models,
        prompts="results/data/prompts.parquet",
        adapter=lambda wc: PARETOHQD[wc.variant]["stage1"].format(
            pref=wc.gen, seed=wc.seed
        ),
    output:
        responses="results/{variant}/seed{seed}/stage2_pool/responses/{gen}.parquet",
        scores=score_outputs(
            "results/{variant}/seed{seed}/stage2_pool/scores/{objective}/{gen}.parquet"
        ),
    log:
        "results/logs/generate_stage2/{variant}/seed{seed}/{gen}.log",
    benchmark:
        "results/benchmarks/generate_stage2/{variant}/seed{seed}/{gen}.tsv"
    params:
        **scoring_params(),
        prompts={"split": "train", "n": config["stage2"]["prompts"]},
        samples_per_prompt=config["stage2"]["samples_per_prompt"],
        source=lambda wc: wc.gen,


use rule scored_table_template as scored_stage2 with:
    input:
        responses=lambda wc: expand(
            rules.generate_stage2.output.responses,
            variant=wc.variant,
            seed=wc.seed,
            gen=PARETOHQD[wc.variant]["generators"],
        ),
        scores=lambda wc: expand(
            rules.generate_stage2.output.scores,
            variant=wc.variant,
            seed=wc.seed,
            gen=PARETOHQD[wc.variant]["generators"],
        ),
    output:
        table="results/{variant}/seed{seed}/stage2_pool/scored.parquet",
        stats="results/{variant}/seed{seed}/stage2_pool/stats.json",
    log:
        "results/logs/scored_stage2/{variant}/seed{seed}.log",


use rule select_template as select_stage2 with:
    input:
        table=rules.scored_stage2.output.table,
        frame_stats=(["results/offline/stats.json"] if STAGE2_FRAME == "stats" else []),
        frame_table=(
            ["results/offline/scored.parquet"] if STAGE2_FRAME == "table" else []
        ),
        mix=lambda wc: (
            expand(rules.select_stage1.output[0], variant=wc.variant, pref=wc.pref)
            if PARETOHQD[wc.variant]["mix_stage1"]
            else []
        ),
    output:
        "results/{variant}/seed{seed}/{pref}/stage2/data.parquet",
    log:
        "results/logs/select_stage2/{variant}/seed{seed}/{pref}.log",
    params:
        selection=lambda wc: selection_params(
            PREFERENCES[wc.pref], STAGE2_K, PARETOHQD[wc.variant]["mode"]
        ),


use rule sft_template as sft_stage2 with:
    input:
        get_base_model,
        data=rules.select_stage2.output[0],
        adapter=lambda wc: PARETOHQD[wc.variant]["stage1"].format(
            pref=wc.pref, seed=wc.seed
        ),
    output:
        directory("results/{variant}/seed{seed}/{pref}/stage2/adapter"),
    log:
        "results/logs/sft_stage2/{variant}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/sft_stage2/{variant}/seed{seed}/{pref}.tsv"
    params:
        settings=get_sft_settings(STAGE2_STEPS),


# paretohqd_stage1 reports paretohqd's stage-1 models (the "stage 1 alone" ablation) when it is
# listed in `methods`; its models are trained by the paretohqd run anyway. A variant's compute:
# both stages' training and its stage-2 pool (generation and scoring), or the run it stands on
# in place of its stage 1. Model cards state how each chose and trained its sets
# (paretohqd/methods/paretohqd/config.py).
register_method(
    "paretohqd_stage1",
    model=PARETOHQD["paretohqd"]["stage1"],
    train=benchmarks(rules.sft_stage1, variant="paretohqd", pref=PREFERENCES),
    data={
        "stage 1": expand(
            rules.select_stage1.output[0], variant="paretohqd", allow_missing=True
        )[0]
    },
    recipe=stage1_recipe(config, PARETOHQD["paretohqd"]["mode"]),
)
for variant, spec in PARETOHQD.items():
    (stage2,) = expand(rules.sft_stage2.output[0], variant=variant, allow_missing=True)
    own_stage1 = benchmarks(rules.sft_stage1, variant=variant, pref=PREFERENCES)
    pool = spec["generators"]
    (stage1_data,) = expand(
        rules.select_stage1.output[0], variant=variant, allow_missing=True
    )
    (stage2_data,) = expand(
        rules.select_stage2.output[0], variant=variant, allow_missing=True
    )
    register_method(
        variant,
        model=stage2,
        train=([] if spec["stands_on"] else own_stage1)
        + benchmarks(rules.sft_stage2, variant=variant, pref=PREFERENCES),
        generate=benchmarks(rules.generate_stage2, variant=variant, gen=pool),
        stands_on=spec["stands_on"],
        data={
            "stage 1": (
                "results/offline/scored.parquet" if spec["stands_on"] else stage1_data
            ),
            "stage 2": stage2_data,
        },
        recipe=variant_recipe(
            config, spec["mode"], pool, spec["mix_stage1"], spec["stands_on"]
        ),
    )
