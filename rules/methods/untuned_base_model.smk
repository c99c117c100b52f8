# The untuned base model: evaluated in every run, as the point every method starts from.
register_method("base", model=None, every_run=True)
