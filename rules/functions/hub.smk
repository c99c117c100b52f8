# The functions rules/hub.smk calls (docs/EXTENDING.md: when each runs).


def get_hub_input(wildcards):
    """The published adapters, their training sets, the front and its metrics."""
    models = published_models()
    return {
        "front": "results/summary/front.csv",
        "metrics": "results/summary/metrics.json",
        "adapters": sorted({model["adapter"] for model in models}),
        "data": sorted({path for model in models for path in model["data"].values()}),
    }
