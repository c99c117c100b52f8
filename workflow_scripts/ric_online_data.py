"""RiC's online training rows: the online answers that pass multi-objective rejection sampling,
each with its own z-scored rewards (offline statistics) in the prompt."""

from paretohqd.io import read_json, write_table
from paretohqd.data.offline import scored_table
from paretohqd.methods.ric import rejection_sample, training_rows
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
table = scored_table([snakemake.input.responses], snakemake.input.scores, p.objectives)
kept = rejection_sample(table, p.objectives, p.quantile)
stats = read_json(snakemake.input.stats)
rows = training_rows(kept, p.objectives, stats)
log.info("kept %d of %d online answers (quantile %.2f of any objective)", len(kept), len(table),
         p.quantile)
write_table(rows, snakemake.output[0])
