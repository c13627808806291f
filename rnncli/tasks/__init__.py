"""The tasks the training loop runs: language modelling and classification."""
