"""The tokenizer pipeline: reading text, vocabularies, encoding and decoding.

Nothing in this package imports torch, so that ``rnncli encode`` and ``decode`` start fast.
"""
