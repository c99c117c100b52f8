"""Prompts and the offline dataset: the prompt sources and splits, and the offline responses."""
