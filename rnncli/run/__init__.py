"""The run directory: its file names (:mod:`.files`), the torch-free directory, configuration and
lock (:mod:`.directory`), the guard around a training process (:mod:`.guard`), and the weights
(:mod:`.weights`, the one module here that imports torch)."""
