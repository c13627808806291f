"""A tagger's figures: token and unseen-word accuracy, per-tag scores, and entities counted as
conlleval counts them (hand-computed cases)."""

from __future__ import annotations

import pytest

from rnncli.tasks.tagging.scores import entity_scores, entity_spans, is_chunked, tagging_metrics


@pytest.mark.parametrize("tags, spans", [
    (["B-PER", "I-PER", "O", "B-LOC"], {("PER", 0, 1), ("LOC", 3, 3)}),
    (["I-PER", "I-PER", "O"], {("PER", 0, 1)}),  # IOB1: I after O starts an entity
    (["B-PER", "I-LOC"], {("PER", 0, 0), ("LOC", 1, 1)}),  # a change of type starts another
    (["B-PER", "B-PER"], {("PER", 0, 0), ("PER", 1, 1)}),
    (["I-PER", "B-PER", "I-PER"], {("PER", 0, 0), ("PER", 1, 2)}),
    (["S-PER", "B-LOC", "E-LOC", "O"], {("PER", 0, 0), ("LOC", 1, 2)}),  # BIOES
    (["E-PER", "I-PER"], {("PER", 0, 0), ("PER", 1, 1)}),  # E ends, the I after it starts again
    (["O", "O"], set()),
])
def test_entity_spans_follow_conlleval(tags, spans):
    assert entity_spans(tags) == spans


def test_entity_scores_count_exact_spans():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "B-ORG"]]
    scores = entity_scores(gold, predicted)
    # gold 3 entities; predicted 4 (PER 0-0, LOC, ORG, ORG); correct 2 (LOC, the first ORG)
    assert (scores["gold"], scores["found"], scores["correct"]) == (3, 4, 2)
    assert scores["precision"] == pytest.approx(0.5) and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores["per_type"]["PER"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_type"]["ORG"]["precision"] == pytest.approx(0.5)
    assert scores["per_type"]["LOC"]["f1"] == 1.0


def test_token_metrics_unseen_words_and_unknown_tags():
    tokens = [["the", "cat", "sat"], ["a", "zyzzyva"]]
    gold = [["DET", "NOUN", "VERB"], ["DET", "NOUN"]]
    predicted = [["DET", "NOUN", "NOUN"], ["DET", "ADJ"]]
    report = tagging_metrics(tokens, gold, predicted, {"the", "cat", "a"}.__contains__, ["DET", "NOUN", "ADJ"])
    assert report["tokens"] == 5 and report["accuracy"] == pytest.approx(3 / 5)
    assert report["unseen_tokens"] == 2 and report["unseen_accuracy"] == 0.0
    assert report["per_tag"]["NOUN"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert report["per_tag"]["ADJ"]["support"] == 0
    assert report["confused"] == [["VERB", "NOUN", 1], ["NOUN", "ADJ", 1]]
    assert report["unknown_tags"] == {"VERB": 1} and "entity" not in report


def test_entity_scores_come_with_bio_tags_only():
    assert is_chunked(["O", "B-PER", "I-PER"]) and is_chunked(["S-LOC", "O"])
    assert not is_chunked(["O"]) and not is_chunked(["NOUN", "B-PER"])
    report = tagging_metrics([["Ann", "ran"]], [["B-PER", "O"]], [["B-PER", "O"]], lambda w: True, ["B-PER", "O"])
    assert report["entity"]["f1"] == 1.0 and report["accuracy"] == 1.0
