# Rewarded soups (offline variant): one LoRA per objective on its top offline rows, then per
# preference the weighted interpolation of those adapters (paretohqd/policy/merging.py). The top-k rows
# are shared; adapters and soups are per training seed.
from paretohqd.methods.rewarded_soups.config import epoch_matched_rows
from paretohqd.selection import LINEAR

SOUPS = config["baselines"]["rewarded_soups"]
SOUP_STEPS = SOUPS["steps"] or config["sft"]["steps"]
# each objective's set: as many epochs per row as a stage-1 ParetoHqD model gets over its k
SOUP_K = SOUPS["k"] or epoch_matched_rows(
    config["selection"]["k"], SOUP_STEPS, config["sft"]["steps"]
)


use rule select_template as select_objective with:
    output:
        "results/rewarded_soups/objectives/{objective}/data.parquet",
    log:
        "results/logs/select_objective/{objective}.log",
    params:
        # the top-k rows of one objective: w . r with a one-hot w
        selection=lambda wc: selection_params(
            [float(name == wc.objective) for name in OBJECTIVES],
            SOUP_K,
            LINEAR,
        ),


use rule sft_template as sft_objective with:
    input:
        get_base_model,
        data="results/rewarded_soups/objectives/{objective}/data.parquet",
    output:
        directory("results/rewarded_soups/seed{seed}/objectives/{objective}/adapter"),
    log:
        "results/logs/sft_objective/seed{seed}/{objective}.log",
    benchmark:
        "results/benchmarks/sft_objective/seed{seed}/{objective}.tsv"
    params:
        settings=get_sft_settings(SOUP_STEPS),


use rule merge_template as soup with:
    input:
        get_base_model,
        adapters=expand(
            rules.sft_objective.output[0], objective=OBJECTIVES, allow_missing=True
        ),
    output:
        directory("results/rewarded_soups/seed{seed}/{pref}/adapter"),
    log:
        "results/logs/soup/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/soup/seed{seed}/{pref}.tsv"
    params:
        weights=lambda wc: PREFERENCES[wc.pref],


register_method(
    "rewarded_soups",
    model=rules.soup.output[0],
    train=benchmarks(rules.sft_objective, objective=OBJECTIVES)
    + benchmarks(rules.soup, pref=PREFERENCES),
    data={
        f"top k of {objective}": path
        for objective, path in zip(
            OBJECTIVES, expand(rules.select_objective.output[0], objective=OBJECTIVES)
        )
    },
    recipe={
        "k per objective": SOUP_K,
        "steps per objective": SOUP_STEPS,
        "merge": "PEFT cat combination, weights = the preference",
    },
)
