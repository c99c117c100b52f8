"""After the run: the model index, interpolation between trained preferences, merged models, hub folders with model cards, and the paretohqd command."""
