"""Print per-rule wall time of a finished run (from its benchmark files) as a markdown table.

Usage: .venv/bin/python bench/rule_times.py [results/benchmarks]
"""

import argparse

from paretohqd.evaluation.costs import rule_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="results/benchmarks")
    args = parser.parse_args()
    table = rule_times(args.root)
    print("| rule | jobs | total s | median s per job | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in table.itertuples(index=False):
        print(f"| {row.rule} | {row.jobs} | {row.total_s:.1f} | {row.median_s:.1f} "
              f"| {row.max_rss_mb:.0f} |")
    print(f"| **all benchmarked jobs** | {table.jobs.sum()} | {table.total_s.sum():.1f} | | |")


if __name__ == "__main__":
    main()
