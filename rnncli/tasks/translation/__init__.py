"""Translation (sequence to sequence): a target sentence for every source sentence, of another
length, by an encoder-decoder with attention (rnncli.models.seq2seq).

data.py reads sentence pairs (rnncli.text.pairs) and builds a vocabulary per side; training.py is
the loop's task (teacher forcing, label smoothing, validation BLEU); engine.py serves a torch
model, exported.py an ONNX export (an encoder graph and a one-step decoder graph, export.py);
inference.py translates (greedy and beam search over any engine) and evaluates (sacrebleu);
commands.py holds ``translate``; planning.py plans a run.
"""

from rnncli.tasks import TaskSpec

TASK = TaskSpec("seq2seq", "translation model", "translation")
