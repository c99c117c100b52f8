"""Join response shards and every objective's scores into one scored table (+ stats)."""

from paretohqd.io import write_json, write_table
from paretohqd.data.offline import scored_table, table_stats
from paretohqd.runtime import start

log = start(snakemake)
objectives = snakemake.params.objectives
table = scored_table(snakemake.input.responses, snakemake.input.scores, objectives)
stats = table_stats(table, objectives)
log.info("scored table: %s", stats)
write_table(table, snakemake.output.table)
write_json(stats, snakemake.output.stats)
