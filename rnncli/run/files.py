"""The names of the files a run directory holds, in one place: every module that opens one of them
(training, serving, export, tune, info, completion) imports its name from here. No torch."""

CONFIG = "config.json"  # the plan: options given, values derived, model shape (rnncli.run.directory)
VOCAB = "vocab.json"  # the tokenizer (rnncli.text.vocab); a translation run's source side
TARGET_VOCAB = "target-vocab.json"  # a translation run's target-side tokenizer, when the sides have one each
LABELS = "labels.json"  # a classifier's label names, a tagger's tags
BEST = "best.safetensors"  # the weights with the best validation score
LAST = "last.safetensors"  # everything --resume needs, in one file
METRICS = "metrics.jsonl"  # one object per evaluation
SAMPLES = "samples.jsonl"  # --sample-every's samples
LOCK = ".lock"  # the flock of the training process
ONNX_DIR = "onnx"  # the run's own export (rnncli.onnxrun)
NGRAM = "ngram.safetensors"  # an n-gram run's tables
HMM_TABLES, HMM_WORDS = "hmm.safetensors", "hmm.json"  # an HMM tagger's tables, and its words and suffixes
UNIGRAM_CACHE = "unigram_cache.json"  # the unigram cache fitted on validation
NEURAL_CACHE = "neural_cache.json"  # the neural cache fitted on validation (rnncli.neural_cache)
TRIALS_DIR, TRIALS = "trials", "trials.jsonl"  # --tune's trials

MODEL_GROUP = "model/"  # the prefix of the model's tensors inside a checkpoint
MAX_HEADER = 16 * 1024 * 1024  # bytes of a safetensors header read at most
RUN_FILES = (CONFIG, VOCAB, LABELS, BEST, LAST, METRICS)  # what makes a trained run
