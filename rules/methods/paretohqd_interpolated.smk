# Models between the trained preferences (`interpolation.preferences`): per training seed and
# listed preference, the exact LoRA merge of the neighbouring ParetoHqD stage-2 adapters
# (paretohqd/serving/interpolation.py picks them and their weights; paretohqd/policy/merging.py merges, as for
# Rewarded Soups and `paretohqd generate --interpolate`). Reported as paretohqd_interpolated,
# evaluated at its own preferences in every run of paretohqd.
from paretohqd.serving.interpolation import interpolation_weights

INTERPOLATED = {preference_id(w): w for w in config["interpolation"]["preferences"]}
# per interpolated preference: [(trained preference id, merge weight)]
NEIGHBOURS = {
    pref: interpolation_weights(w, PREFERENCES) for pref, w in INTERPOLATED.items()
}


use rule merge_template as interpolate with:
    input:
        base_model_input,
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
        preferences=INTERPOLATED,
        train=benchmarks(rules.interpolate, pref=INTERPOLATED),
        stands_on=["paretohqd"],
    )
