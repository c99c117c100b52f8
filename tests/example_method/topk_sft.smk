# An example method, the one docs/EXTENDING.md walks through: per preference, LoRA SFT on the
# top-k offline rows by w . r. One rules file is all it takes (tests/test_workflow.py copies
# it into rules/methods/ of a copy of the workflow): its rules reuse the shared rule bodies of
# rules/templates.smk, and one registration tells evaluation and the summary about it.
from paretohqd.selection import LINEAR


use rule select_template as select_topk with:
    output:
        "results/topk_sft/{pref}/data.parquet",
    log:
        "results/logs/select_topk/{pref}.log",
    params:
        selection=lambda wc: selection_params(
            PREFERENCES[wc.pref], config["selection"]["k"], LINEAR
        ),


use rule sft_template as sft_topk with:
    input:
        get_base_model,
        data=rules.select_topk.output[0],
    output:
        directory("results/topk_sft/seed{seed}/{pref}/adapter"),
    log:
        "results/logs/sft_topk/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/sft_topk/seed{seed}/{pref}.tsv"


register_method(
    "topk_sft",
    model=rules.sft_topk.output[0],
    train=benchmarks(rules.sft_topk, pref=PREFERENCES),
)
