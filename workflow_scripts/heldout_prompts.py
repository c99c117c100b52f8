"""One held-out prompt set (evaluation.heldout_sets): loaded, made disjoint from every prompt
the run trains, labels or tests on, sampled; the removed prompts listed with their reason."""

from paretohqd.data.heldout import disjoint, heldout_prompts, load_heldout
from paretohqd.similarity import NEAR_DUPLICATE
from paretohqd.io import atomic_path, read_table, write_table
from paretohqd.rewards.labels import RECIPES
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
seen = read_table(snakemake.input.prompts, required=["prompt"])["prompt"].tolist()
for recipe in p.recipes:
    seen += RECIPES[recipe]()["prompt"].tolist()
raw = load_heldout(p.name, p.spec)
result = disjoint(raw, seen, p.spec.get("near_duplicate", NEAR_DUPLICATE))
table = heldout_prompts(result, p.spec.get("max_prompts"), p.seed)
if table.empty:
    raise ValueError(f"evaluation.heldout_sets.{p.name}: no prompt is left after removing the "
                     f"{len(result.removed)} that duplicate the run's prompts")
log.info("%s: %d prompts from %s, %d removed as duplicates of the run's %d prompts "
         "(%d exact), %d kept, %d evaluated", p.name, len(raw), p.spec["source"],
         len(result.removed), len(set(seen)), int((result.removed["reason"] == "exact").sum()),
         len(result.kept), len(table))
with atomic_path(snakemake.output.removed) as tmp:
    result.removed.to_csv(tmp, index=False)
write_table(table, snakemake.output.prompts)
