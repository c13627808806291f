"""Inference written once above the engines that compute a model's outputs.

An engine is torch's (:mod:`rnncli.tasks.language.engine`, ...), an ONNX export's through
onnxruntime, or an n-gram model's counts; each implements the protocol of its task
(:mod:`.engine`). Everything a command does with one is written here once: windowed reading of a
text (:mod:`.reading`), batching by length (:mod:`.batching`), sampling (:mod:`.sampling`), beam
search and best-of (:mod:`.search`), scoring lines (:mod:`.scoring`), evaluation
(:mod:`.evaluation`). No torch is imported here.
"""
