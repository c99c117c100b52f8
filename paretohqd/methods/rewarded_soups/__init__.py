"""Rewarded Soups (offline): one LoRA per objective on its top rows (sizes in ``config``), merged per preference by paretohqd.policy.merging."""
