"""The report's answers page: a few fixed test prompts, every evaluated model's answer side by
side with its rewards (one training seed)."""

import pandas as pd

from paretohqd.evaluation.answers import pick_answers, render_answers
from paretohqd.evaluation.front import scored_answers
from paretohqd.io import atomic_path
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
m = len(p.objectives)
tables = [scored_answers(snakemake.input.responses[i], snakemake.input.scores[i * m:(i + 1) * m],
                         p.objectives).assign(method=method, pref_id=pref)
          for i, (method, pref, _, _) in enumerate(p.points)]
answers = pick_answers(pd.concat(tables, ignore_index=True), p.prompts)
preferences = {pref: weights for _, pref, _, weights in p.points}
log.info("%d answers to %d prompts", len(answers), answers["prompt_id"].nunique())
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(render_answers(answers, p.objectives, preferences, p.seed), encoding="utf-8")
