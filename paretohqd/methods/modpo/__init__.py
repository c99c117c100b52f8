"""MODPO (Zhou et al., 2023): DPO with a margin from the other objectives' rewards; ``config`` holds its settings, ``training`` its pairs and trainer."""
