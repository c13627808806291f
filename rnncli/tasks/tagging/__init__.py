"""Sequence tagging (many-to-many): a tag for every token of a sentence (parts of speech, named
entities in BIO tags, ...).

data.py reads tagged sentences (CoNLL-U, CoNLL columns, JSON lines; rnncli.text.tagged);
training.py is the loop's task (sentences batched by length, the loss over real tokens);
engine.py serves a torch model, exported.py an ONNX export, hmm.py the counted hidden Markov
model; export.py writes the ONNX graph; inference.py tags and evaluates; commands.py holds the
``tag`` command; planning.py plans a run.
"""

from rnncli.tasks import TaskSpec

TASK = TaskSpec("tag", "tagger", "tagging", counted=("hmm",), counted_part="hmm:open_counted")
