"""RiC's training rows of one online round: a seeded replay of offline RiC rows that pass
multi-objective rejection sampling, then the answers of every round so far that pass it within
their round, each with its own z-scored rewards (offline statistics) in the prompt (RiC's merge
of offline and online data)."""

from paretohqd.data.offline import scored_table
from paretohqd.io import read_json, read_table, write_table
from paretohqd.methods.ric.online import online_rows
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
n = len(p.objectives)
scores = list(snakemake.input.scores)  # round by round, one table per objective
rounds = [scored_table([responses], scores[i * n:(i + 1) * n], p.objectives)
          for i, responses in enumerate(snakemake.input.responses)]
offline = read_table(snakemake.input.offline, required=["row_id", *p.objectives],
                     unique=["row_id"])
rows, kept, replayed = online_rows(rounds, offline,
                                   read_table(snakemake.input.ric_rows, unique=["row_id"]),
                                   p.objectives, read_json(snakemake.input.stats), p.quantile,
                                   p.replay, p.seed)
for i, (answers, count) in enumerate(zip(rounds, kept), start=1):
    log.info("round %d: kept %d of %d online answers (quantile %.2f of any objective)", i,
             count, len(answers), p.quantile)
log.info("%d offline rows replayed; %d training rows", replayed, len(rows))
write_table(rows, snakemake.output[0])
