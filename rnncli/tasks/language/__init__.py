"""Language modelling (one-to-many generation): P(x_t | x_<t) over a corpus of any level.

data.py reads and tokenizes a corpus; training.py is the loop's task (contiguous windows, the
state carried); engine.py serves a torch model, exported.py an ONNX export, ngram.py the n-gram
baseline's counts; export.py writes the ONNX graph; inference.py evaluates; commands.py holds the
``generate`` and ``score`` commands.
"""

from rnncli.tasks import TaskSpec

TASK = TaskSpec("lm", "language model", "language", counted=("ngram",), counted_part="ngram:open_counted")
