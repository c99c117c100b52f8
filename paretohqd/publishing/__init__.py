"""After the run: hub-ready model folders (``hub``: an evaluated adapter, its tokenizer, its training data's and measured rewards' facts) with their model cards (``cards``)."""
