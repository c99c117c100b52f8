"""After the run: the model index, interpolation between trained preferences, merged models, the server and the paretohqd command."""
