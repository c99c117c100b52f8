"""Evaluation and the summary: collapse rule, front table, hypervolume, IGD+, spacing and
bootstrap metrics, comparison, plots, compute costs and the report's answers page."""
