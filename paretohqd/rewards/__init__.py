"""Reward models: scorers, scoring of answer tables, and the workflow-trained reward models with their human labels."""
