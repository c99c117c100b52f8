"""The report's landing findings: the front figure and each method's hypervolume with its
interval, as reStructuredText that report/workflow.rst includes."""

from pathlib import Path

from paretohqd.evaluation.landing import landing_rst
from paretohqd.io import atomic_path, read_json
from paretohqd.runtime import start

log = start(snakemake)
metrics = read_json(snakemake.input.metrics)
log.info("%d methods, reference %s", len(metrics["methods"]),
         metrics["bootstrap"]["compare_to"])
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(landing_rst(metrics, Path(snakemake.input.png).read_bytes()),
                   encoding="utf-8")
