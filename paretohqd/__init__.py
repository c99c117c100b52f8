"""ParetoHqD: fast offline multi-objective alignment with Pareto high-quality data."""

__version__ = "0.1.0"
