"""Classification (many-to-one): one label, or several, per text.

data.py reads labelled examples; training.py is the loop's task and its metrics; engine.py serves
a torch model, exported.py an ONNX export; export.py writes the ONNX graph; inference.py
classifies and evaluates; commands.py holds the ``classify`` command.
"""

from rnncli.tasks import TaskSpec

TASK = TaskSpec("classify", "classifier", "classification")
