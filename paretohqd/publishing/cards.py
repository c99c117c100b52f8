"""Model cards: the README.md (YAML metadata, then text) that makes an adapter folder a Hugging
Face hub artifact, rendered from what the workflow knows about the model (gathered by
paretohqd/publishing/hub.py). Pure functions: no I/O."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from paretohqd.config import preference_text

Z95 = 1.96  # a 95% normal interval from a standard error
TAGS = ("paretohqd", "multi-objective-alignment", "lora")


@dataclass(frozen=True)
class Reward:
    """One objective's measured mean reward and its bootstrap standard error."""

    mean: float
    se: float

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% interval: mean +- 1.96 standard errors."""
        return self.mean - Z95 * self.se, self.mean + Z95 * self.se


@dataclass(frozen=True)
class DataSet:
    """A training set: its label, file, rows and each objective's mean reward in it."""

    label: str
    path: str
    rows: int
    means: Mapping[str, float]


@dataclass(frozen=True)
class CardFacts:
    """Everything a model card states about one evaluated adapter.

    ``weights``: the preference per objective (None: one model for every preference);
    ``reward_models``: objective -> reward model (path, hub name or scorer kind);
    ``rewards``: measured mean reward per objective over ``n_seeds`` training seeds and
    ``n_prompts`` test prompts (``n_answers`` answers); ``conditioning``: for one model steered
    per preference by its prompt, its ``function``, ``input`` and ``options``.
    """

    method: str
    pref_id: str
    seed: int
    weights: Mapping[str, float] | None
    base_model: str
    gguf_file: str | None
    reward_models: Mapping[str, str]
    rewards: Mapping[str, Reward]
    n_seeds: int
    n_prompts: int
    n_answers: int
    command: str
    data: Sequence[DataSet] = ()
    recipe: Mapping[str, Any] = field(default_factory=dict)
    conditioning: Mapping[str, Any] | None = None


def _number(value: float) -> float:
    return float(f"{value:.6g}")


def front_matter(facts: CardFacts) -> dict[str, Any]:
    """The card's YAML metadata: hub fields (base_model, library_name, tags) and the
    preference, objectives and measured rewards."""
    return {
        "base_model": facts.base_model,
        "library_name": "peft",
        "pipeline_tag": "text-generation",
        "tags": list(dict.fromkeys([*TAGS, facts.method])),
        "preference": (None if facts.weights is None
                       else {o: _number(w) for o, w in facts.weights.items()}),
        "objectives": {o: {"reward_model": model} for o, model in facts.reward_models.items()},
        "training_seed": facts.seed,
        "eval_results": {o: {"mean_reward": _number(r.mean),
                             "ci95": [_number(v) for v in r.interval]}
                         for o, r in facts.rewards.items()},
    }


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def reward_model_names(objectives: Sequence[Mapping[str, Any]], trained: Mapping[str, str],
                       start_model: str) -> dict[str, str]:
    """How a card names each objective's reward model: for a classifier the workflow trains
    (``trained``: objective -> its model folder), the folder with the model it started from
    and its label recipe; for another classifier its hub name or path; else the scorer kind.
    ``objectives``: the config's objective entries."""
    names = {}
    for objective in objectives:
        name = objective["name"]
        if objective["scorer"] != "classifier":
            names[name] = objective["scorer"]
        elif name in trained:
            names[name] = (f"{trained[name]} (fine-tuned by the workflow from {start_model} "
                           f"on recipe {objective['train_recipe']})")
        else:
            names[name] = objective["model"]
    return names


def _usage(facts: CardFacts) -> str:
    gguf = f", gguf_file={facts.gguf_file!r}" if facts.gguf_file else ""
    code = ["```python", "from peft import PeftModel",
            "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
            f"base = AutoModelForCausalLM.from_pretrained({facts.base_model!r}{gguf})",
            'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
            'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")', "```"]
    text = "\n".join(code)
    if facts.conditioning:
        c = facts.conditioning
        text += ("\n\nThe preference is not in the weights: this one adapter serves every "
                 f"preference, and `{c['function']}` (options {dict(c['options'])}, reading "
                 f"`{c['input']}`) writes it into each prompt. Plain prompts do not give the "
                 "rewards measured below.")
    return text


def _training(facts: CardFacts) -> str:
    if not facts.data and not facts.recipe:
        return "Not described by the method's registration (rules/methods/)."
    parts = []
    if facts.data:
        objectives = list(facts.reward_models)
        parts.append(_table(
            ["set", "file", "rows", *(f"mean {o}" for o in objectives)],
            [[d.label, f"`{d.path}`", d.rows,
              *(f"{d.means[o]:.4g}" if o in d.means else "" for o in objectives)]
             for d in facts.data]))
    if facts.recipe:
        parts.append(_table(["setting", "value"], list(facts.recipe.items())))
    return "\n\n".join(parts)


def _evaluation(facts: CardFacts) -> str:
    seeds = ("this adapter alone" if facts.n_seeds == 1
             else f"all {facts.n_seeds} training seeds' adapters together, this one among them")
    intro = (f"Mean reward per objective on {facts.n_prompts} held-out test prompts "
             f"({facts.n_answers} answers; {seeds}), with 95% intervals: mean +- {Z95} "
             "bootstrap standard errors, resampling prompts and seeds.")
    rows = [[o, f"{r.mean:.4g}", f"[{r.interval[0]:.4g}, {r.interval[1]:.4g}]"]
            for o, r in facts.rewards.items()]
    return intro + "\n\n" + _table(["objective", "mean reward", "95% interval"], rows)


def render_card(facts: CardFacts) -> str:
    """The model card: YAML front matter between ``---`` lines, then Markdown."""
    metadata = yaml.safe_dump(front_matter(facts), sort_keys=False, allow_unicode=True)
    objectives = _table(["objective", "weight", "reward model"],
                        [[o, "" if facts.weights is None else f"{facts.weights[o]:.2f}", model]
                         for o, model in facts.reward_models.items()])
    sections = [
        f"# {facts.method}: preference {preference_text(facts.weights)}",
        f"A LoRA adapter of `{facts.base_model}` trained by the ParetoHqD workflow with the "
        f"method `{facts.method}` (training seed {facts.seed}) for the preference vector "
        f"{preference_text(facts.weights)} over the objectives "
        f"{', '.join(facts.reward_models)} (larger rewards are better).",
        "## Use\n\n" + _usage(facts),
        "## Objectives and reward models\n\n" + objectives,
        "## Training data\n\n" + _training(facts),
        "## Evaluation\n\n" + _evaluation(facts),
        "## Reproduce\n\nIn the folder that holds `results/`, with the same configuration "
        f"files:\n\n```bash\n{facts.command}\n```",
    ]
    return f"---\n{metadata}---\n\n" + "\n\n".join(sections) + "\n"


def reproduce_command(snakefile: str | Path, configfiles: Sequence[str | Path],
                      config_args: Sequence[str], workdir: str | Path) -> str:
    """The snakemake command line of a run in ``workdir``: ``--snakefile`` unless it is the
    folder's own, the ``--configfile`` files (relative to ``workdir`` when inside it) and the
    ``--config`` values."""
    workdir = Path(workdir).absolute()
    parts = ["snakemake", "--cores", "all"]
    snakefile = Path(snakefile).absolute()
    if snakefile != workdir / "Snakefile":
        parts += ["--snakefile", str(snakefile)]
    for path in map(Path, configfiles):
        inside = path.is_absolute() and path.is_relative_to(workdir)
        parts += ["--configfile", str(path.relative_to(workdir) if inside else path)]
    if config_args:
        parts += ["--config", *config_args]
    return shlex.join(parts)
