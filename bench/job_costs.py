"""Where a finished run's time went: each rule's jobs split into fixed cost (interpreter start,
imports, model and tokenizer loads, saving) and work (tokens generated, rows scored, steps
trained), from the benchmark files and the ``phase`` lines of the job logs; then the floor those
jobs imply on the run's cores (their summed time over the cores: the wall time with every core
busy all the time), of the work alone and of the fixed costs, beside the run's own wall time.

Usage: .venv/bin/python bench/job_costs.py [results] [--cores 2] [--log .snakemake/log/X.log]
(the log defaults to the finished invocation that ran the most jobs, in .snakemake/log beside
the results folder)
"""

import argparse
from pathlib import Path

from paretohqd.evaluation.costs import elapsed_seconds, job_costs, main_invocation, run_floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results", type=Path)
    parser.add_argument("--cores", type=int, default=2, help="the cores the run had")
    parser.add_argument("--log", type=Path, help="the run's Snakemake log (its Elapsed time)")
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
    floor = run_floor(jobs, args.cores)
    log = args.log or main_invocation(
        list((args.results.resolve().parent / ".snakemake/log").glob("*.snakemake.log")))
    wall = elapsed_seconds(log) if log else None
    print(f"\nOn {args.cores} cores the benchmarked jobs imply a floor of {floor['floor_s']:.0f} s "
          f"(work {floor['work_floor_s']:.0f} s + fixed costs {floor['fixed_floor_s']:.0f} s)"
          + (f"; the run took {wall:.0f} s ({log.name}), {wall / floor['floor_s']:.2f}x the floor."
             if wall else "; no finished Snakemake log to compare with (--log)."))


if __name__ == "__main__":
    main()
