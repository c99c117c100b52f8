"""The verdict tables of a multi-seed run, from its metrics.json (rule summary), as Markdown for
docs/RESULTS.md: per method the hypervolume under the reward models and under the judges,
each with the crossed prompt x seed bootstrap interval, every seed's own value and the interval
across seeds; the difference to the reference method both ways; over-optimisation; the
steering measures.

Usage: .venv/bin/python bench/seed_verdicts.py results/summary/metrics.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def interval(entry: dict, estimate: str = "estimate", digits: int = 4) -> str:
    """``estimate [low, high]`` of a metrics.json interval, or empty."""
    if not entry:
        return ""
    return (f"{entry[estimate]:.{digits}f} [{entry['ci_low']:.{digits}f}, "
            f"{entry['ci_high']:.{digits}f}]")


def grading_table(section: dict, reference: str, title: str) -> list[str]:
    """One grading's table: hypervolume (bootstrap), per seed, across seeds (t interval and
    where a re-run lands), difference to ``reference`` (bootstrap and across seeds)."""
    lines = [f"**{title}**", "",
             "| method | HV [95%, prompts x seeds] | HV per seed | HV across seeds [95% t] "
             "| a re-run's HV [95%] | HV(ref) - HV [95%, prompts x seeds] | resamples with ref "
             "ahead | HV(ref) - HV across seeds [95% t] |",
             "| --- |" + " ---: |" * 7]
    for method, entry in section["methods"].items():
        hv = {"estimate": entry["hypervolume"], "ci_low": entry["hypervolume_ci"][0],
              "ci_high": entry["hypervolume_ci"][1]}
        seeds = entry.get("hypervolume_across_seeds", {})
        versus = entry.get(f"vs_{reference}", {})
        share = versus.get(f"share_{reference}_better")
        lines.append(" | ".join([
            f"| {method}", interval(hv),
            ", ".join(f"{v:.4f}" for v in entry.get("hypervolume_per_seed", [])),
            interval(seeds, "mean"),
            (f"[{seeds['re_run_low']:.4f}, {seeds['re_run_high']:.4f}]" if seeds else ""),
            interval(versus), "" if share is None else f"{share:.3f}",
            interval(entry.get(f"vs_{reference}_across_seeds", {}), "mean")]) + " |")
    return lines


def steering_table(metrics: dict) -> list[str]:
    """Rank correlations, ranges, mean angle and over-optimisation per method."""
    objectives = metrics["objectives"]
    lines = ["| method | " + " | ".join(f"rho {o}" for o in objectives) + " | "
             + " | ".join(f"range {o}" for o in objectives)
             + " | mean angle to ray (deg) | over-optimisation |",
             "| --- |" + " ---: |" * (2 * len(objectives) + 2)]
    for method, entry in metrics["methods"].items():
        rho = entry.get("rank_correlation", {})
        steering = entry.get("steering", {})
        lines.append(" | ".join(
            [f"| {method}"] + [interval(rho.get(o, {}), digits=2) for o in objectives]
            + [interval(steering.get("range", {}).get(o, {}), digits=3) for o in objectives]
            + [interval(steering.get("angle", {}).get("mean", {}), digits=1),
               interval(entry.get("over_optimisation", {}))]) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics", type=Path)
    metrics = json.loads(parser.parse_args().metrics.read_text())
    reference = metrics["bootstrap"]["compare_to"]
    boot = metrics["bootstrap"]
    print(f"{boot['prompts']} test prompts x {boot['seeds']} training seeds "
          f"{metrics['seeds']}, {boot['resamples']} paired resamples, reference {reference}\n")
    lines = grading_table(metrics, reference, "Graded by the reward models")
    if "judged" in metrics:
        lines += [""] + grading_table(metrics["judged"], reference,
                                      f"Graded by the judges ({metrics['judged']['sources']})")
    lines += ["", "**Steering and over-optimisation** (95%, prompts x seeds)", ""]
    lines += steering_table(metrics)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
