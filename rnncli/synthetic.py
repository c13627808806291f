"""Deterministic generators of the small corpora the project ships and teaches with.

- ``english``: English-like prose and dialogue from a small grammar (an LM demo corpus).
- ``topics``: labelled ``label<TAB>text`` messages on four topics (a classification demo).
- ``word-order``: the same words in both classes; only their order decides the label, so a
  bag of words (even with bigrams) stays at chance while a recurrent network solves it.
- ``long-range``: the label is a key token ``distance`` steps back, behind distractors; an
  Elman RNN fails as the distance grows, an LSTM carries it in its cell state.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator

NAMES = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Felix", "Greta", "Hugo", "Irina", "Jonas",
         "Katya", "Leon", "Marta", "Nikolai", "Olga", "Pavel"]
ADJECTIVES = ["old", "young", "quiet", "tired", "clever", "proud", "gentle", "angry", "happy",
              "curious", "brave", "sad", "careful", "foolish", "honest", "strange"]
NOUNS = ["miller", "soldier", "teacher", "farmer", "doctor", "captain", "merchant", "priest",
         "baker", "sailor", "painter", "widow", "prince", "servant", "hunter", "judge"]
PLACES = ["the river", "the village", "the market", "the old mill", "the church", "the forest",
          "the harbour", "the garden", "the city gate", "the long road", "the inn", "the hill"]
OBJECTS = ["a letter", "the bread", "a small box", "the key", "an old coat", "the lamp",
           "a bottle of wine", "the map", "a silver ring", "the horse", "a basket of apples",
           "the newspaper"]
VERBS_T = ["carried", "found", "lost", "opened", "sold", "bought", "hid", "mended", "gave away",
           "remembered", "wanted", "forgot"]
VERBS_I = ["walked to", "ran to", "returned to", "looked at", "waited near", "slept by",
           "sang at", "stood by"]
TIMES = ["in the morning", "at noon", "that evening", "after the storm", "before dawn",
         "on Sunday", "in winter", "all day", "late at night", "the next day"]
FEELINGS = ["afraid", "glad", "sorry", "sure", "tired", "hungry", "worried", "certain"]
REASONS = ["the war had begun", "the bread was cold", "the letter never came",
           "the river was high", "nobody had listened", "the prince was ill",
           "the road was closed", "the harvest was good"]


def _np(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return rng.choice(NAMES)
    adjective = rng.choice(ADJECTIVES) + " " if rng.random() < 0.6 else ""
    return f"the {adjective}{rng.choice(NOUNS)}"


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    subject = _np(rng)
    if kind < 0.3:
        body = f"{subject} {rng.choice(VERBS_T)} {rng.choice(OBJECTS)}"
    elif kind < 0.55:
        body = f"{subject} {rng.choice(VERBS_I)} {rng.choice(PLACES)}"
    elif kind < 0.7:
        body = f"{subject} was {rng.choice(FEELINGS)} because {rng.choice(REASONS)}"
    elif kind < 0.85:
        body = f"{subject} told {_np(rng)} that {rng.choice(REASONS)}"
    else:
        body = (f"{subject} {rng.choice(VERBS_T)} {rng.choice(OBJECTS)} and "
                f"{rng.choice(VERBS_I)} {rng.choice(PLACES)}")
    if rng.random() < 0.4:
        body = f"{body} {rng.choice(TIMES)}"
    return _cap(body) + rng.choice([".", ".", ".", "!", "..."])


def _speech(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f'"Where is {rng.choice(OBJECTS)}?" asked {rng.choice(NAMES)}.'
    if kind < 0.7:
        return f'"I am {rng.choice(FEELINGS)}," said {rng.choice(NAMES)}, "because {rng.choice(REASONS)}."'
    return f'{rng.choice(NAMES)} said: "We must go to {rng.choice(PLACES)} {rng.choice(TIMES)}."'


def english(lines: int = 3000, seed: int = 0) -> Iterator[str]:
    """Paragraphs of short sentences and dialogue, separated by blank lines."""
    rng = random.Random(seed)
    written = 0
    while written < lines:
        for _ in range(rng.randint(2, 6)):
            parts = [_speech(rng) if rng.random() < 0.25 else _sentence(rng)
                     for _ in range(rng.randint(1, 3))]
            yield " ".join(parts)
            written += 1
        yield ""
        written += 1


TOPIC_WORDS = {
    "billing": ["invoice", "charge", "refund", "payment", "card", "bill", "price", "paid twice",
                "receipt", "subscription"],
    "shipping": ["parcel", "delivery", "courier", "tracking number", "package", "address",
                 "shipment", "arrived late", "lost in transit", "box"],
    "account": ["password", "login", "username", "email address", "profile", "two-factor code",
                "account", "sign in", "locked out", "settings"],
    "technical": ["app", "crash", "error message", "update", "screen", "bug", "button",
                  "freezes", "website", "loading"],
}
OPENERS = ["hi,", "hello,", "good morning,", "hey team,", "dear support,", "", "", "urgent:"]
FRAMES = ["my {a} is wrong and the {b} does not help", "I have a question about the {a}",
          "the {a} again, can you check the {b}?", "why is my {a} not working with the {b}",
          "please help with the {a}", "nobody answered about my {a} and {b}",
          "is there any news on the {a}?", "the {a} and the {b} are both a problem"]
CLOSERS = ["thanks", "thank you!", "regards", "", "", "asap please", "cheers"]


def topics(lines: int = 2000, seed: int = 0) -> Iterator[str]:
    """``label<TAB>text`` support messages, four labels, some noise words shared by all."""
    rng = random.Random(seed)
    labels = sorted(TOPIC_WORDS)
    for _ in range(lines):
        label = rng.choice(labels)
        words = TOPIC_WORDS[label]
        text = rng.choice(FRAMES).format(a=rng.choice(words), b=rng.choice(words))
        if rng.random() < 0.15:  # a word of another topic, as real messages mix
            text += f", also the {rng.choice(TOPIC_WORDS[rng.choice(labels)])}"
        text = " ".join(p for p in (rng.choice(OPENERS), text, rng.choice(CLOSERS)) if p)
        yield f"{label}\t{text}"


def multi_label(lines: int = 2000, seed: int = 0) -> Iterator[str]:
    """fastText-format support messages with one to three labels that co-occur by rule: each topic
    whose word a message mentions is a label, and ``urgent`` joins when the message says so."""
    rng = random.Random(seed)
    labels = sorted(TOPIC_WORDS)
    for _ in range(lines):
        chosen = sorted(rng.sample(labels, rng.choice((1, 1, 2, 2, 3))))
        parts = [f"the {rng.choice(TOPIC_WORDS[label])}" for label in chosen]
        rng.shuffle(parts)
        text = rng.choice(FRAMES).format(a=parts[0].removeprefix("the "), b=rng.choice(TOPIC_WORDS[chosen[0]]))
        if len(parts) > 1:
            text += ", and also " + " and ".join(parts[1:])
        urgent = rng.random() < 0.25
        opener = rng.choice(("urgent:", "asap,", "right now please,")) if urgent else rng.choice(OPENERS[:-1])
        text = " ".join(p for p in (opener, text, rng.choice(CLOSERS)) if p)
        tags = chosen + (["urgent"] if urgent else [])
        yield " ".join(f"__label__{t}" for t in tags) + " " + text


ORDER_FILLER = ["the", "a", "small", "big", "house", "tree", "river", "stone", "road", "cloud",
                "bird", "window", "garden", "lamp", "chair", "door"]


def word_order(lines: int = 2000, seed: int = 0, length: int = 12) -> Iterator[str]:
    """Label ``red-first`` or ``blue-first``: both words occur once in every line, apart.

    The two classes use the same words with the same frequencies and the same neighbours (the
    two words never stand at either end, where a missing neighbour would give the order away),
    so neither word counts nor bigrams tell them apart: only the order does.
    """
    if length < 6:
        raise ValueError("word-order lines need at least 6 words")
    rng = random.Random(seed)
    for _ in range(lines):
        words = [rng.choice(ORDER_FILLER) for _ in range(length)]
        i, j = sorted(rng.sample(range(1, length - 1), 2))
        while j - i < 3:
            i, j = sorted(rng.sample(range(1, length - 1), 2))
        first = rng.choice(["red", "blue"])
        words[i], words[j] = first, "blue" if first == "red" else "red"
        yield f"{first}-first\t{' '.join(words)}"


KEYS = ["alpha", "bravo", "charlie", "delta"]
DISTRACTORS = [f"w{i}" for i in range(16)]


def long_range(lines: int = 4000, seed: int = 0, distance: int = 50) -> Iterator[str]:
    """Label = the key word at the start; ``distance`` random distractor words follow it."""
    if distance < 1:
        raise ValueError("distance must be at least 1")
    rng = random.Random(seed)
    for _ in range(lines):
        key = rng.choice(KEYS)
        tail = " ".join(rng.choice(DISTRACTORS) for _ in range(distance))
        yield f"{key}\t{key} {tail}"


AMBIGUOUS = ["Jordan", "Florence", "Austin", "Victoria", "Georgia", "Chester"]  # persons and places alike
SURNAMES = ["Berg", "Novak", "Frost", "Ito", "Moreau", "Quinn", "Adler", "Sato"]
ORG_HEADS = ["Acme", "Northwind", "Bluebird", "Jordan", "Victoria", "Summit"]
ORG_TAILS = ["Bank", "Group", "Mills", "Company", "Press"]
CUES = {"PER": ["Dr.", "Mrs.", "Mr.", "Professor"], "LOC": ["in", "near", "from", "to"]}
FILLER_VERBS = ["met", "visited", "called", "thanked", "wrote to", "left"]


def _entity(rng: random.Random, kind: str) -> list[str]:
    if kind == "PER":
        return [rng.choice(AMBIGUOUS + NAMES)] + ([rng.choice(SURNAMES)] if rng.random() < 0.6 else [])
    if kind == "ORG":
        return [rng.choice(ORG_HEADS), rng.choice(ORG_TAILS)]
    return ([rng.choice(["North", "South", "Port"])] if rng.random() < 0.3 else []) + [rng.choice(AMBIGUOUS)]


def _cue(rng: random.Random, kind: str) -> str:
    return rng.choice(CUES["PER"]) if kind == "PER" else "the"


def entities(lines: int = 2000, seed: int = 0) -> Iterator[str]:
    """Named entities in BIO tags, one ``token TAG`` line per token and a blank line after each of
    ``lines`` sentences (CoNLL columns). Names such as Jordan or Victoria are persons after a title,
    places after a preposition and part of an organisation before Bank or Group: the tag depends on
    the neighbours, and multi-word names need consistent B-/I- tags."""
    rng = random.Random(seed)
    for _ in range(lines):
        words: list[tuple[str, str]] = []
        subject, object_ = ("PER" if rng.random() < 0.6 else "ORG"), ("PER" if rng.random() < 0.5 else "ORG")
        for kind, cue in ((subject, _cue(rng, subject)), ("", rng.choice(FILLER_VERBS)), (object_, _cue(rng, object_)),
                          ("LOC", rng.choice(CUES["LOC"]))):
            words.append((cue, "O"))
            name = _entity(rng, kind) if kind else []
            words.extend((w, ("B-" if i == 0 else "I-") + kind) for i, w in enumerate(name))
        for word, tag in [*words, (".", "O")]:
            yield f"{word} {tag}"
        yield ""


GENERATORS: dict[str, Callable[..., Iterator[str]]] = {
    "entities": entities,
    "english": english,
    "topics": topics,
    "word-order": word_order,
    "long-range": long_range,
    "multi-label": multi_label,
}
