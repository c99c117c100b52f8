# Every registered method's models (paretohqd.registry; rules/methods/) answer the test prompts
# and each held-out prompt set, and score their answers with every objective and every judge
# (rules/judges.smk), once per training seed (sampling with that seed); the summary turns them
# into the front (means over seeds and prompts), its hypervolume, the comparison and the plots.


include: "functions/evaluation.smk"


use rule generate_template as generate_eval with:
    input:
        unpack(get_eval_inputs),
    output:
        responses="results/eval/{method}/seed{seed}/responses/{pref}.parquet",
        scores=score_outputs(
            "results/eval/{method}/seed{seed}/scores/{objective}/{pref}.parquet"
        ),
        judged=judge_outputs(
            "results/eval/{method}/seed{seed}/judged/{objective}/{pref}.parquet"
        ),
    log:
        "results/logs/generate_eval/{method}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/generate_eval/{method}/seed{seed}/{pref}.tsv"
    params:
        **scoring_params(),
        judges=judge_scorers(),
        prompts={"split": "test", "n": None},
        samples_per_prompt=config["evaluation"]["samples_per_prompt"],
        source="eval",
        keep_empty=True,
        conditioning=get_eval_conditioning,
        sampling=eval_sampling_params(),


# The same models answer each held-out prompt set (evaluation.heldout_sets) with the same
# sampling settings and seed, scored by every objective and judge.
use rule generate_eval as generate_heldout with:
    output:
        responses="results/heldout/{heldout}/{method}/seed{seed}/responses/{pref}.parquet",
        scores=score_outputs(
            "results/heldout/{heldout}/{method}/seed{seed}/scores/{objective}/{pref}.parquet"
        ),
        judged=judge_outputs(
            "results/heldout/{heldout}/{method}/seed{seed}/judged/{objective}/{pref}.parquet"
        ),
    log:
        "results/logs/generate_heldout/{heldout}/{method}/seed{seed}/{pref}.log",
    benchmark:
        "results/benchmarks/generate_heldout/{heldout}/{method}/seed{seed}/{pref}.tsv"
    params:
        prompts={"split": "heldout", "n": None},


rule summary:
    input:
        unpack(get_summary_input),
    output:
        front="results/summary/front.csv",
        front_judged="results/summary/front_judged.csv",
        metrics="results/summary/metrics.json",
        png=report(
            "results/summary/front.png",
            caption="../report/front.rst",
            category="Front",
        ),
        svg="results/summary/front.svg",
        comparison_csv="results/summary/comparison.csv",
        comparison_md="results/summary/comparison.md",
        comparison_html=report(
            "results/summary/comparison.html",
            caption="../report/comparison.rst",
            category="Front",
        ),
    log:
        "results/logs/summary.log",
    conda:
        CORE_ENV
    params:
        **summary_params(),
    script:
        workflow_file("workflow_scripts/summary.py")


# Each method's training budget and compute (work seconds, tokens, FLOPs), the shared costs in
# rows of their own, and hypervolume against FLOPs: from the jobs' benchmark files and the
# phase and count lines of their logs (paretohqd/evaluation/compute.py).
rule compute:
    input:
        metrics=rules.summary.output.metrics,
        benchmarks=get_compute_benchmarks,
    output:
        csv="results/summary/compute.csv",
        md="results/summary/compute.md",
        html=report(
            "results/summary/compute.html",
            caption="../report/compute.rst",
            category="Compute",
        ),
        png=report(
            "results/summary/hv_compute.png",
            caption="../report/compute.rst",
            category="Compute",
        ),
    log:
        "results/logs/compute.log",
    conda:
        CORE_ENV
    params:
        costs=method_costs(),
        shared=shared_costs(),
        seeds=SEEDS,
        compute_reference=config["summary"]["compute_reference"],
    script:
        workflow_file("workflow_scripts/compute.py")


# What each selected training set holds (size, Pareto layer, normalised rewards, distance to
# its ray) and the hypervolume of the sets' means beside the trained models'
# (paretohqd/evaluation/selection_diagnostics.py).
rule selection_diagnostics:
    input:
        stats="results/offline/stats.json",
        metrics=rules.summary.output.metrics,
        sets=lambda wc: sorted({s["path"] for s in training_sets()}),
    output:
        csv="results/summary/selection.csv",
        hypervolume="results/summary/selection_hypervolume.csv",
        md="results/summary/selection.md",
    log:
        "results/logs/selection_diagnostics.log",
    conda:
        CORE_ENV
    params:
        objectives=list(OBJECTIVES),
        sets=training_sets(),
        reference_point=config["summary"]["reference_point"],
    script:
        workflow_file("workflow_scripts/selection_diagnostics.py")


# One held-out set graded as the test set is (front, hypervolume with paired intervals,
# differences to the reference method, rank correlations, both gradings), in the test set's
# frame, and each method's drop from the test prompts to the set with its interval
# (paretohqd/evaluation/heldout.py).
rule heldout_summary:
    input:
        unpack(get_heldout_summary_input),
    output:
        front="results/summary/heldout/{heldout}/front.csv",
        front_judged="results/summary/heldout/{heldout}/front_judged.csv",
        metrics="results/summary/heldout/{heldout}/metrics.json",
        drops="results/summary/heldout/{heldout}/drops.csv",
        comparison_md="results/summary/heldout/{heldout}/comparison.md",
        comparison_html=report(
            "results/summary/heldout/{heldout}/comparison.html",
            caption="../report/heldout.rst",
            category="Held-out prompts",
            subcategory="{heldout}",
        ),
        png=report(
            "results/summary/heldout/{heldout}/front.png",
            caption="../report/heldout.rst",
            category="Held-out prompts",
            subcategory="{heldout}",
        ),
    log:
        "results/logs/heldout_summary/{heldout}.log",
    conda:
        CORE_ENV
    params:
        **summary_params(),
        name=lambda wc: wc.heldout,
    script:
        workflow_file("workflow_scripts/heldout_summary.py")


# Every method's hypervolume on the test prompts and on each held-out set, and the drop with
# its interval, in one table.
rule heldout_drops:
    input:
        expand(rules.heldout_summary.output.drops, heldout=HELDOUT),
    output:
        csv="results/summary/heldout/drops.csv",
        md="results/summary/heldout/drops.md",
        html=report(
            "results/summary/heldout/drops.html",
            caption="../report/heldout.rst",
            category="Held-out prompts",
        ),
    log:
        "results/logs/heldout_drops.log",
    conda:
        CORE_ENV
    params:
        level=config["summary"]["confidence"],
    script:
        workflow_file("workflow_scripts/heldout_drops.py")
