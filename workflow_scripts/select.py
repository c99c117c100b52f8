"""Select one preference's training rows from a scored table (Pareto layers + direction)."""

import warnings

import pandas as pd

from paretohqd.io import read_json, read_table, write_table
from paretohqd.selection import select_rows, table_frame
from paretohqd.runtime import start

log = start(snakemake)
s = snakemake.params.selection
table = read_table(snakemake.input.table, required=["row_id", "prompt", "response",
                                                    *s["objectives"]], unique=["row_id"])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    # with stage2.frame offline: the offline stats.json, or with a frame quantile the offline
    # table itself (its quantiles are not in the stats)
    if snakemake.input.get("frame_stats"):
        frame = read_json(snakemake.input.frame_stats[0])["rewards"]
    elif snakemake.input.get("frame_table"):
        offline = read_table(snakemake.input.frame_table[0], required=s["objectives"])
        frame = table_frame(offline, s["objectives"], s.get("frame_quantile", 0.0))
    else:
        frame = None
    rows = select_rows(table, **s, frame=frame)
for warning in caught:
    log.warning("%s", warning.message)
if snakemake.input.get("mix"):
    earlier = read_table(snakemake.input.mix, required=["row_id", "prompt", "response"])
    rows = pd.concat([rows, earlier], ignore_index=True).drop_duplicates("row_id")
log.info("selected %d rows for w=%s (%s); mean rewards %s", len(rows), s["weights"], s["mode"],
         rows[s["objectives"]].mean().round(4).to_dict())
write_table(rows, snakemake.output[0])
