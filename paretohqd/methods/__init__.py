"""The baselines' own logic, one module per method (ParetoHqD itself is paretohqd.selection on paretohqd.policy)."""
