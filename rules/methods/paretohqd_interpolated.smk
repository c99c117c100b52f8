# Models between the trained preferences (`interpolation.preferences`): per training seed and
# listed preference, the exact LoRA merge of the neighbouring ParetoHqD stage-2 adapters
# (paretohqd/serving/interpolation.py picks them and their weights; paretohqd/policy/merging.py merges, as for
# Rewarded Soups and `paretohqd generate --interpolate`). Reported as paretohqd_interpolated,
# evaluated in every run of paretohqd and placed at the preference each merge stands for.
from paretohqd.serving.interpolation import merge_plan

INTERPOLATED = {preference_id(w): w for w in config["interpolation"]["preferences"]}
# per interpolated preference: [(trained preference id, merge weight)], and the preference
# the merge stands for (the asked one unless it is outside the trained preferences' hull)
MERGE_PLAN = merge_plan(INTERPOLATED, PREFERENCES)
NEIGHBOURS = {pref: merge for pref, (merge, _) in MERGE_PLAN.items()}


use rule merge_template as interpolate with:
    input:
        get_base_model,
        adapters=lambda wc: [
            REGISTRY["paretohqd"].model.format(pref=pref, seed=wc.seed)
            for pref, _ in NEIGHBOURS[wc.pref]
        ],
    output:
        directory("results/paretohqd_interpolated/seed{seed}/{pref}/adapter"),
    log:
        "results/logs/interpolate/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/interpolate/seed{seed}/{pref}.tsv"
    params:
        weights=lambda wc: [weight for _, weight in NEIGHBOURS[wc.pref]],


if INTERPOLATED:
    register_method(
        "paretohqd_interpolated",
        model=rules.interpolate.output[0],
        run="paretohqd",
        preferences={
            pref: list(stands_for) for pref, (_, stands_for) in MERGE_PLAN.items()
        },
        train=benchmarks(rules.interpolate, pref=INTERPOLATED),
        stands_on=["paretohqd"],
    )
