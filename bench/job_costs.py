"""Where a finished run's time went: each rule's jobs split into fixed cost (interpreter start,
imports, model and tokenizer loads, saving) and work (tokens generated, rows scored, steps
trained), from the benchmark files and the ``phase`` lines of the job logs.

Usage: .venv/bin/python bench/job_costs.py [results]
"""

import argparse
from pathlib import Path

from paretohqd.evaluation.costs import job_costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results", type=Path)
    args = parser.parse_args()
    jobs = job_costs(args.results / "benchmarks", args.results / "logs")
    per_rule = jobs.groupby("rule").agg(
        n=("wall_s", "size"), wall=("wall_s", "sum"), median_wall=("wall_s", "median"),
        median_startup=("startup_s", "median"), work=("work_s", "sum"), fixed=("fixed_s", "sum"))
    print("| rule | jobs | total s | median s per job | median start-up s | work s | fixed s "
          "| fixed share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rule, row in per_rule.iterrows():
        print(f"| {rule} | {row.n} | {row.wall:.1f} | {row.median_wall:.1f} | {row.median_startup:.1f} "
              f"| {row.work:.1f} | {row.fixed:.1f} | {row.fixed / row.wall:.0%} |")
    total = jobs[["wall_s", "work_s", "fixed_s"]].sum()
    print(f"| **all** | {len(jobs)} | {total.wall_s:.1f} | | | {total.work_s:.1f} "
          f"| {total.fixed_s:.1f} | {total.fixed_s / total.wall_s:.0%} |")


if __name__ == "__main__":
    main()
