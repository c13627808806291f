"""The planner, unit-tested without torch: every default and every --resume rule, in milliseconds.

A plan is a pure function of the user's arguments, the corpus facts and the machine; these tests hand
it facts for corpora from 10 KB to 1 GB, words and characters, 2 to 10,000 labels.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from rnncli.args import TrainArgs, refuse_inapplicable, resumed
from rnncli.errors import ConfigError
from rnncli.plan import (CorpusFacts, Machine, RunPlan, TokenizerPlan, default_level, infer_task, plan_run,
                         plan_tokenizer)

CPU2 = Machine(device="cpu", precision="fp32", threads=2)
KB, MB, GB = 1_000, 1_000_000, 1_000_000_000
WORD_BYTES = 5.8  # bytes per whitespace word of English prose (War and Peace: 3.27 MB, 563k words)


def lm_plan(chars: int, level: str, vocab: int, machine: Machine = CPU2, **given: object) -> RunPlan:
    args = TrainArgs.of(corpus=["c.txt"], output="r", level=level, **given)
    tokens = chars if level == "char" else int(chars / WORD_BYTES)
    return plan_run(args, "lm", plan_tokenizer(args, "lm", chars), CorpusFacts(tokens, tokens // 20, vocab, level),
                    machine)


def classifier_plan(examples: int, labels: int, **given: object) -> RunPlan:
    args = TrainArgs.of(corpus=["d.tsv"], output="r", task="classify", **given)
    facts = CorpusFacts(examples, max(1, examples // 10), 8000, "word", labels)
    return plan_run(args, "classify", plan_tokenizer(args, "classify", examples * 80), facts, CPU2)


CHAR_SIZES = [10 * KB, 232 * KB, 1_003_854, 1 * MB, 100 * MB, 1 * GB]  # sample english, tinyshakespeare
WORD_SIZES = [10 * KB, 1 * MB, 2_875_966, 100 * MB, 1 * GB]  # War and Peace


@pytest.mark.parametrize("chars", CHAR_SIZES)
def test_character_models_fit_their_batches_in_the_corpus_and_grow_with_it(chars):
    plan = lm_plan(chars, "char", 324)
    d, m = plan.data, plan.model
    assert d.batch_size * d.bptt * 4 <= chars or d.batch_size == 4
    assert d.bptt == 50
    assert m.hidden == (128 if chars < 30_000 else 256 if chars < 300_000 else 512)
    assert m.embed == 64 and not m.cutoffs
    assert plan.loop.lr == 6e-3 and plan.loop.precision == "fp32"
    assert plan.loop.epochs is not None and plan.loop.epochs >= 1  # without a clock, about 3M tokens
    assert plan.loop.epochs * chars >= min(chars, 3_000_000)


@pytest.mark.parametrize("chars", WORD_SIZES)
@pytest.mark.parametrize("vocab", [2_000, 41_000, 500_000])
def test_word_models_take_an_adaptive_softmax_beyond_8000_tokens(chars, vocab):
    plan = lm_plan(chars, "word", vocab)
    assert bool(plan.model.cutoffs) == (vocab >= 8000)
    assert plan.model.embed == plan.model.hidden
    m = plan.model
    assert m.ar and m.tar and plan.data.shift_windows and not m.locked  # what validation kept of AWD-LSTM
    assert m.dropout_weight == m.dropout_embed == 0 and m.dropout_input == m.dropout
    assert plan.loop.epochs is not None and plan.loop.epochs >= 1


def test_word_models_default_to_the_regularisers_validation_chose():
    """Plain dropout by corpus size (none beyond 100k tokens) with AR and TAR: the rest of the
    AWD-LSTM set read worse on validation on every bench corpus, so it is there when asked for."""
    from rnncli.tasks.language.planning import regularisers

    assert regularisers("word", 0.0) == {"dropout": 0.0, "dropout_input": 0.0, "dropout_embed": 0.0,
                                         "dropout_weight": 0.0, "locked": False, "ar": 2.0, "tar": 1.0}
    assert regularisers("char", 0.1) == {"dropout": 0.1, "dropout_input": 0.1, "dropout_embed": 0.0,
                                         "dropout_weight": 0.0, "locked": False, "ar": 0.0, "tar": 0.0}
    assert lm_plan(100_000, "word", 5_000).model.dropout == 0.3  # a small corpus keeps the inherited rule
    large = lm_plan(10 * MB, "bpe", 2_000_000, time_budget=3000)
    assert (large.model.dropout, large.model.dropout_weight, large.model.ar) == (0.0, 0.0, 2.0)
    given = lm_plan(1 * MB, "word", 200_000, weight_dropout=0.3, locked_dropout=True, dropout=0.2)
    assert (given.model.dropout_weight, given.model.locked, given.model.dropout_input) == (0.3, True, 0.2)


def test_word_models_stop_on_validation_and_say_so():
    plan = lm_plan(3_266_296, "word", 41_000, time_budget=444)
    assert plan.loop.epochs is None and plan.loop.patience == 3
    assert any("stop after 3 evaluations without a better validation loss" in note for note in plan.notes)
    assert lm_plan(3_266_296, "word", 41_000, epochs=5).loop.epochs == 5
    assert lm_plan(3_266_296, "word", 41_000, max_steps=10).loop.epochs is None
    assert lm_plan(3_266_296, "word", 41_000, patience=8).loop.patience == 8
    assert lm_plan(3_266_296, "bpe", 8_000).loop.patience == 3
    assert lm_plan(1_003_854, "char", 324).loop.patience is None
    assert classifier_plan(4_459, 2).loop.patience is None


def test_a_time_budget_leaves_character_models_unbounded():
    plan = lm_plan(1_003_854, "char", 324, time_budget=120)
    assert plan.loop.epochs is None and plan.loop.time_budget == 120


@pytest.mark.parametrize("examples, labels", [(200, 2), (4_459, 2), (2_000, 4), (50_000, 150), (1_000_000, 10_000)])
def test_classifiers_for_2_to_10000_labels(examples, labels):
    plan = classifier_plan(examples, labels)
    assert plan.model.num_labels == labels
    assert plan.model.bidirectional and plan.model.pool == "max"
    assert plan.data.batch_size == (32 if examples < 50_000 else 64)
    assert plan.data.max_len == 400 and plan.data.holdout == 0.1
    assert plan.loop.epochs == 10


def test_bag_of_words_is_one_directional_with_hashed_bigrams():
    plan = classifier_plan(4_459, 2, model="bow")
    assert plan.model.kind == "bow" and not plan.model.bidirectional and plan.model.bigram_buckets == 1 << 17
    assert plan.loop.lr == 2e-2


def test_character_models_decay_their_weights_more_than_other_models():
    """Characters see their corpus several times within a budget: weight decay 0.1 holds them back from
    memorising it at no cost per step (docs/defaults.md); the rest keep AdamW's common 0.01."""
    assert lm_plan(1_003_854, "char", 324, time_budget=120).loop.weight_decay == 0.1
    assert lm_plan(2_875_966, "word", 41_000).loop.weight_decay == 0.01
    assert classifier_plan(4_459, 2).loop.weight_decay == 0.01
    assert lm_plan(1_003_854, "char", 324, weight_decay=0.0).loop.weight_decay == 0.0


def test_given_values_win_over_defaults():
    plan = lm_plan(1_003_854, "char", 324, hidden=32, batch_size=8, bptt=20, lr=1e-3, dropout=0.5, layers=2)
    assert (plan.model.hidden, plan.model.embed, plan.model.layers, plan.model.dropout) == (32, 32, 2, 0.5)
    assert (plan.data.batch_size, plan.data.bptt, plan.loop.lr) == (8, 20, 1e-3)


def test_a_distributed_run_rounds_the_batch_to_the_processes():
    four = dataclasses.replace(CPU2, world=4)
    assert lm_plan(1_003_854, "char", 324, four).data.batch_size % 4 == 0
    with pytest.raises(ConfigError, match="multiple of the 4 processes"):
        lm_plan(1_003_854, "char", 324, four, batch_size=6)


def test_the_default_level_and_task():
    assert default_level("lm", 4 * MB) == "char" and default_level("lm", 5 * MB) == "bpe"
    assert default_level("classify", 1 * KB) == "word"
    assert infer_task(TrainArgs.of(corpus=["x"]), True)[0] == "classify"
    assert infer_task(TrainArgs.of(corpus=["x"], model="bow"), False)[0] == "classify"
    assert infer_task(TrainArgs.of(corpus=["x"], task="lm"), True) == ("lm", None)


@pytest.mark.parametrize("given, task, level, message", [
    ({"pool": "mean"}, "lm", "char", "--pool applies to classifiers only"),
    ({"bptt": 10}, "classify", "bpe", "--bptt applies to language models only"),
    ({"tie_weights": True}, "classify", "bpe", "--tie-weights applies to language models only"),
    ({"lowercase": True}, "lm", "bpe", "--lowercase applies to word vocabularies"),
    ({"min_freq": 2}, "classify", "unigram", "--min-freq applies to word and char vocabularies"),
    ({"vocab_size": 100}, "lm", "char", "--vocab-size applies to bpe and unigram vocabularies"),
])
def test_options_that_do_not_apply_are_refused_by_name(given, task, level, message):
    args = TrainArgs.of(corpus=["x"], output="r", level=level, **given)
    with pytest.raises(ConfigError, match=message):
        plan_tokenizer(args, task, 1 * MB)


def test_tokenizer_options_beside_a_given_vocabulary_are_refused():
    with pytest.raises(ConfigError, match="--level shapes the vocabulary that --vocab gives"):
        plan_tokenizer(TrainArgs.of(corpus=["x"], vocab="v.json", level="char"), "lm", 1 * MB)
    assert plan_tokenizer(TrainArgs.of(corpus=["x"], vocab="v.json"), "lm", 1 * MB) == TokenizerPlan("file", "v.json")


def test_resume_keeps_the_saved_run_and_applies_what_the_user_gave_now():
    saved = lm_plan(1_003_854, "char", 324, hidden=64, max_steps=100)
    now = TrainArgs.of(output="r", resume=True, max_steps=200, lr=1e-3)
    args = resumed(saved.args, now)
    assert args.hidden == 64 and args.max_steps == 200 and args.corpus == ["c.txt"]
    plan = plan_run(args, "lm", saved.tokenizer, CorpusFacts(1, 1, 324, "char"), CPU2, saved)
    assert plan.model == saved.model and plan.data == saved.data
    assert plan.loop.max_steps == 200 and plan.loop.lr == 1e-3


def test_resume_keeps_the_schedule_cycles_of_a_word_model():
    saved = lm_plan(8_000_000, "word", 41_000, time_budget=444)
    assert saved.loop.cycle_steps == 1230  # two passes of 615 updates (32 x 70 tokens each)
    args = resumed(saved.args, TrainArgs.of(output="r", resume=True, time_budget=100))
    plan = plan_run(args, "lm", saved.tokenizer, CorpusFacts(1, 1, 41_000, "word"), CPU2, saved)
    assert plan.loop.cycle_steps == 1230 and plan.loop.patience == 3 and plan.loop.time_budget == 100


def test_resume_keeps_the_weight_decay_the_run_began_with_unless_given_now():
    saved = lm_plan(1_003_854, "char", 324, max_steps=100)
    for now, expected in ((TrainArgs.of(output="r", resume=True), 0.1),
                          (TrainArgs.of(output="r", resume=True, weight_decay=0.02), 0.02)):
        plan = plan_run(resumed(saved.args, now), "lm", saved.tokenizer, CorpusFacts(1, 1, 324, "char"), CPU2, saved)
        assert plan.loop.weight_decay == expected


@pytest.mark.parametrize("option, value", [("hidden", 128), ("batch_size", 4), ("level", "word"), ("model", "gru")])
def test_resume_refuses_a_change_of_shape(option, value):
    saved = lm_plan(1_003_854, "char", 324, hidden=64)
    with pytest.raises(ConfigError, match=f"--resume cannot change --{option.replace('_', '-')}"):
        resumed(saved.args, TrainArgs.of(output="r", resume=True, **{option: value}))


def test_resume_accepts_the_same_value_again():
    saved = lm_plan(1_003_854, "char", 324, hidden=64)
    assert resumed(saved.args, TrainArgs.of(output="r", resume=True, hidden=64)).hidden == 64


def test_resume_checks_the_task_of_options_given_now():
    with pytest.raises(ConfigError, match="--pool applies to classifiers only"):
        refuse_inapplicable(TrainArgs.of(output="r", resume=True, pool="max"), "lm", None, building=False)


def test_a_plan_survives_its_json():
    plan = classifier_plan(4_459, 2, class_weights="auto", save_every="120s")
    again = RunPlan.from_json(plan.to_json(), plan.model)
    assert again == dataclasses.replace(plan, args=again.args)
    assert again.args.recorded() == plan.args.recorded()
    assert again.args.given == plan.args.given - {"output"}
    assert (again.loop.save_every, again.loop.save_every_steps) == (120.0, None)


def test_unknown_options_and_bad_values_are_refused():
    with pytest.raises(ConfigError, match="unknown train option 'hiden'"):
        TrainArgs.of(hiden=3)
    with pytest.raises(ConfigError, match="--save-every"):
        lm_plan(1 * MB, "char", 324, save_every="soon")


def test_every_plan_above_takes_well_under_a_second():
    began = time.perf_counter()
    for chars in CHAR_SIZES:
        lm_plan(chars, "char", 324)
    for chars in WORD_SIZES:
        for vocab in (2_000, 41_000, 500_000):
            lm_plan(chars, "word", vocab)
    for examples, labels in [(200, 2), (50_000, 150), (1_000_000, 10_000)]:
        classifier_plan(examples, labels)
    assert time.perf_counter() - began < 1.0


def test_a_slow_machine_trains_a_narrower_character_model_in_a_short_budget():
    """The budget should show a character model at least 2 tokens per parameter."""
    slow = dataclasses.replace(CPU2, rates=((512, 11_000.0), (384, 16_000.0), (256, 24_000.0)))
    fast = dataclasses.replace(CPU2, precision="bf16", rates=((512, 26_000.0), (384, 33_000.0), (256, 40_000.0)))
    narrow = lm_plan(1_003_854, "char", 324, slow, time_budget=120)
    assert narrow.model.hidden == 384 and narrow.loop.lr > 6e-3
    assert any("tokens per parameter" in note for note in narrow.notes)
    assert lm_plan(1_003_854, "char", 324, fast, time_budget=120).model.hidden == 512
    assert lm_plan(1_003_854, "char", 324, slow, time_budget=3600).model.hidden == 512
    assert lm_plan(1_003_854, "char", 324, slow, time_budget=120, hidden=512).model.hidden == 512


def test_only_a_budgeted_character_model_without_hidden_is_timed():
    from rnncli.tasks.language.planning import budget_candidates

    facts = CorpusFacts(1_003_854, 111_540, 324, "char")
    budget = TrainArgs.of(corpus=["c"], time_budget=120)
    assert budget_candidates(budget, facts, 2) == (512, 384, 256)
    assert budget_candidates(TrainArgs.of(corpus=["c"]), facts, 2) == ()
    assert budget_candidates(TrainArgs.of(corpus=["c"], time_budget=120, hidden=64), facts, 2) == ()
    assert budget_candidates(budget, dataclasses.replace(facts, level="word"), 2) == ()

