"""RiC's online training rows: the online answers that pass multi-objective rejection sampling,
each with its own z-scored rewards (offline statistics) in the prompt, after a seeded replay of
offline RiC rows that pass the same test (RiC's merge of offline and online data)."""

import pandas as pd

from paretohqd.data.offline import scored_table
from paretohqd.io import read_json, read_table, write_table
from paretohqd.methods.ric import rejection_sample, replay_rows, training_rows
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
table = scored_table([snakemake.input.responses], snakemake.input.scores, p.objectives)
kept = rejection_sample(table, p.objectives, p.quantile)
stats = read_json(snakemake.input.stats)
online = training_rows(kept, p.objectives, stats)
offline = read_table(snakemake.input.offline, required=["row_id", *p.objectives],
                     unique=["row_id"])
replay = replay_rows(offline, read_table(snakemake.input.ric_rows, unique=["row_id"]),
                     p.objectives, p.quantile, p.replay, p.seed)
log.info("kept %d of %d online answers (quantile %.2f of any objective); %d offline rows "
         "replayed", len(kept), len(table), p.quantile, len(replay))
write_table(pd.concat([replay, online], ignore_index=True), snakemake.output[0])
