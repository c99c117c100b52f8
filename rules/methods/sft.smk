# The preference-blind baseline: one LoRA SFT on the whole scored offline data, which every
# preference shares (one per training seed).


use rule sft_template as sft_full with:
    input:
        get_base_model,
        data="results/offline/scored.parquet",
    output:
        directory("results/sft/seed{seed}/adapter"),
    log:
        "results/logs/sft_full/seed{seed}.log",
    benchmark:
        "results/benchmarks/sft_full/seed{seed}.tsv"
    params:
        settings=get_sft_settings(config["baselines"]["sft"]["steps"]),


register_method(
    "sft",
    model=rules.sft_full.output[0],
    train=benchmarks(rules.sft_full),
    data={"every offline row": "results/offline/scored.parquet"},
    recipe={"selection": "none", "steps": config["baselines"]["sft"]["steps"]},
)
