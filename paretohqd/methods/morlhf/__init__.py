"""MORLHF: online RL (TRL's GRPO) on the weighted reward sum w . r; ``config`` holds its settings, ``training`` its reward functions and trainer."""
