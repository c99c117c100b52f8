"""The policy model: the base model, generation, LoRA training (SFT, multi-process launch) and adapter merging."""
