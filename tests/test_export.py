"""ONNX export: the exported graphs compute what the torch models compute, and the inference
commands serve them without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
torch = pytest.importorskip("torch")

from rnncli.tasks.classification.export import graph as classifier_graph  # noqa: E402
from rnncli.tasks.language.export import graph as language_model_graph  # noqa: E402
from rnncli.models.classifier import Classifier  # noqa: E402
from rnncli.models.config import ModelConfig  # noqa: E402
from rnncli.models.lm import LanguageModel  # noqa: E402
from tests.conftest import SAMPLE, assert_one_error, probe_command  # noqa: E402

TINY = ["--hidden", "16", "--embed", "8", "--threads", "1", "--precision", "fp32", "--max-steps", "6",
        "--eval-every", "3", "-q"]


def session(model) -> "ort.InferenceSession":  # type: ignore[no-untyped-def]
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def weights(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def randomised(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Weights far from their initial values (biases included), so every gate and bias matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
    return module.eval()


LM_CASES = [(kind, layers, head) for kind in ("rnn", "lstm", "gru") for layers in (1, 3)
            for head in ("full", "tied", "adaptive")]


@pytest.mark.parametrize("kind, layers, head", LM_CASES)
def test_language_model_graph_equals_torch(kind, layers, head):
    config = ModelConfig(task="lm", kind=kind, vocab_size=60, embed=12, hidden=16, layers=layers,
                         tie_weights=head == "tied", cutoffs=(10, 30) if head == "adaptive" else ())
    model = randomised(LanguageModel(config), 1)
    run = session(language_model_graph(weights(model), config))
    tokens = np.random.default_rng(0).integers(0, 60, size=(7, 3))
    h0 = np.random.default_rng(1).standard_normal((layers, 3, 16)).astype(np.float32)
    c0 = np.random.default_rng(2).standard_normal((layers, 3, 16)).astype(np.float32)
    feeds = {"tokens": tokens, "h": h0, **({"c": c0} if kind == "lstm" else {})}
    outputs = run.run(None, feeds)
    with torch.no_grad():
        state = (torch.from_numpy(h0), torch.from_numpy(c0)) if kind == "lstm" else torch.from_numpy(h0)
        features, final = model(torch.from_numpy(tokens), state)
        expected = model.log_probs(features).reshape(7, 3, 60).numpy()
    np.testing.assert_allclose(outputs[0], expected, atol=1e-4)
    finals = final if kind == "lstm" else (final,)
    for got, want in zip(outputs[1:], finals):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-5)


CLASSIFIER_CASES = [(kind, bidirectional, pool, layers) for kind in ("rnn", "lstm", "gru")
                    for bidirectional in (False, True) for pool in ("last", "mean", "max") for layers in (1, 2)]
CLASSIFIER_CASES.append(("cnn", False, "max", 1))  # texts of 1 to 9 tokens: shorter and longer than its filters


@pytest.mark.parametrize("kind, bidirectional, pool, layers", CLASSIFIER_CASES)
def test_classifier_graph_equals_torch(kind, bidirectional, pool, layers):
    config = ModelConfig(task="classify", kind=kind, vocab_size=50, embed=8, hidden=12, layers=layers,
                         num_labels=4, bidirectional=bidirectional, pool=pool)
    model = randomised(Classifier(config), 2)
    run = session(classifier_graph(weights(model), config))
    lengths = np.array([5, 1, 9, 3], dtype=np.int64)
    tokens = np.zeros((4, 9), dtype=np.int64)
    rng = np.random.default_rng(3)
    for row, n in enumerate(lengths):
        tokens[row, :n] = rng.integers(4, 50, size=n)
    probs = run.run(["probs"], {"tokens": tokens, "lengths": lengths})[0]
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(tokens), torch.from_numpy(lengths)), dim=-1).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)


# ----- the commands -----------------------------------------------------------------------------

def without_torch(*args: str, stdin: str = "") -> tuple[str, bool]:
    """Run an rnncli command in a fresh interpreter; its stdout and whether torch stayed out."""
    out, modules = probe_command(*args, stdin=stdin)
    return out, "torch" not in modules


def test_classify_and_evaluate_serve_the_export_without_torch_and_agree(cli, tmp_path):
    run = tmp_path / "clf"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--bidirectional", *TINY)
    texts = "the refund for my invoice\nmy parcel is late\n\nreset my password\n"
    by_torch = cli.ok("classify", "-c", run, "-k", "2", "--weights", "last", input=texts).stdout
    first = cli.ok("classify", "-c", run, "-k", "2", "-v", input=texts)  # torch serves, then exports
    assert "with torch" in first.stderr and "exported to" in first.stderr
    assert (run / "onnx" / "manifest.json").is_file()
    served, no_torch = without_torch("classify", "-c", str(run), "-k", "2", stdin=texts)
    assert no_torch
    assert served == first.stdout
    for ours, theirs in zip(served.splitlines(), by_torch.splitlines()):  # best == last at step 6
        assert ours.split("\t")[::2] == theirs.split("\t")[::2]
        assert np.allclose([float(p) for p in ours.split("\t")[1::2]], [float(p) for p in theirs.split("\t")[1::2]],
                           atol=1e-4)
    report, no_torch = without_torch("evaluate", "-c", str(run), str(SAMPLE / "topics.tsv"), "--json")
    reference = json.loads(cli.ok("evaluate", "-c", run, SAMPLE / "topics.tsv", "--json", "--weights", "last").stdout)
    assert no_torch and json.loads(report)["confusion"] == reference["confusion"]


def test_generate_and_evaluate_a_language_model_from_the_export(cli, tmp_path):
    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", *TINY)
    common = ["-c", run, "--prompt", "The ", "--max-tokens", "60"]
    for temperature in ("0", "0.9"):
        torch_text = cli.ok("generate", *common, "--temperature", temperature, "--seed", "4", "--weights", "last").stdout
        cli.ok("export", "-c", run)
        onnx_text, no_torch = without_torch("generate", *map(str, common), "--temperature", temperature, "--seed", "4")
        assert no_torch and onnx_text == torch_text
    figures, no_torch = without_torch("evaluate", "-c", str(run), str(SAMPLE / "english.txt"), "--json")
    reference = json.loads(cli.ok("evaluate", "-c", run, SAMPLE / "english.txt", "--json", "--weights", "last").stdout)
    assert no_torch and abs(json.loads(figures)["loss"] - reference["loss"]) < 1e-4


def test_int8_export_reports_its_cost_and_is_served(cli, tmp_path):
    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", *TINY)
    result = cli.ok("export", "-c", run, "-o", tmp_path / "deploy", "--quantize", "int8", "--check",
                    SAMPLE / "english.txt")
    assert result.stdout == ""
    costs = [line for line in result.stderr.splitlines() if line.startswith("check on")]
    assert len(costs) == 2 and "int8" in costs[0]
    manifest = json.loads((tmp_path / "deploy" / "manifest.json").read_text())
    assert manifest["serve"] == "int8" and set(manifest["models"]) == {"fp32", "int8"}
    assert {p.name for p in (tmp_path / "deploy").iterdir()} == {"model.onnx", "model.int8.onnx", "vocab.json",
                                                                  "manifest.json"}


def test_a_stale_export_is_replaced_after_the_run_changes(cli, tmp_path):
    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", *TINY)
    cli.ok("export", "-c", run)
    assert json.loads(cli.ok("info", "-c", run, "--json").stdout)["onnx"] == "current"
    before = json.loads((run / "onnx" / "manifest.json").read_text())["checkpoint"]
    cli.ok("train", "-o", run, "--resume", "--max-steps", "12", "-q")
    assert json.loads(cli.ok("info", "-c", run, "--json").stdout)["onnx"] == "stale"
    shown = cli.ok("generate", "-c", run, "--prompt", "a", "--max-tokens", "5", "-v")
    after = json.loads((run / "onnx" / "manifest.json").read_text())["checkpoint"]
    assert "with torch" in shown.stderr and "exported to" in shown.stderr and after != before
    assert "with onnxruntime" in cli.ok("generate", "-c", run, "--prompt", "a", "--max-tokens", "5", "-v").stderr
    assert after["mtime_ns"] == (run / "best.safetensors").stat().st_mtime_ns


def test_a_failed_call_leaves_the_run_as_it_was(cli, tmp_path):
    run = tmp_path / "clf"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, *TINY)
    (tmp_path / "bad.tsv").write_text("no tab here\nnor here\n")
    assert_one_error(cli("evaluate", "-c", run, tmp_path / "bad.tsv"), 1, "bad.tsv")
    assert not (run / "onnx").exists()


def test_the_bag_of_words_is_served_by_torch_and_says_why(cli, tmp_path):
    run = tmp_path / "bow"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--model", "bow", *TINY)
    shown = cli.ok("classify", "-c", run, "-v", input="my invoice\n")
    assert "with torch: the bag-of-words" in shown.stderr and not (run / "onnx").exists()
    assert_one_error(cli("export", "-c", run), 2, "bag-of-words")


def test_an_export_runs_with_onnxruntime_and_numpy_alone(cli, tmp_path):
    """The README's plain-onnxruntime snippet, run in an interpreter where torch cannot be imported."""
    run = tmp_path / "clf"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, *TINY)
    cli.ok("export", "-c", run, "-o", tmp_path / "deploy")
    snippet = f"""
import sys
sys.modules["torch"] = None  # any import of torch would fail
import json, numpy as np, onnxruntime as ort
d = {str(tmp_path / "deploy")!r}
manifest = json.load(open(d + "/manifest.json"))
vocab = json.load(open(d + "/vocab.json"))
index = {{t: i for i, t in enumerate(vocab["tokens"])}}
ids = [index.get(w, manifest["specials"]["unk"]) for w in "my parcel is late".split()]
session = ort.InferenceSession(d + "/" + manifest["models"]["fp32"])
probs = session.run(["probs"], {{"tokens": np.array([ids]), "lengths": np.array([len(ids)])}})[0][0]
print(manifest["labels"][int(probs.argmax())])
"""
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in json.loads((tmp_path / "deploy" / "manifest.json").read_text())["labels"]


def test_classify_batches_as_the_library_does():
    """The command's default (declared where numpy is not yet imported) is the library's."""
    import inspect

    from rnncli.tasks.classification.commands import classify
    from rnncli.infer.batching import INFERENCE_BATCH

    default = inspect.signature(classify).parameters["batch_size"].default
    assert default == INFERENCE_BATCH


def test_a_large_vocabulary_is_read_a_few_steps_per_call(cli, tmp_path, monkeypatch):
    """The export's log-probabilities cover the whole vocabulary at every position: past a bound the
    engine reads fewer steps per call, with the state carried, and the figures stay the same."""
    from rnncli.onnxrun import open_export
    from rnncli.tasks.language import exported

    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", *TINY)
    cli.ok("export", "-c", run)
    engine = open_export(run / "onnx")
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(4, 40, size=(9, 3)), rng.integers(4, 40, size=(9, 3))
    whole, _, state = engine.target_log_probs_features(inputs, targets)
    monkeypatch.setattr(exported, "LOG_PROB_FLOATS", 2 * 3 * len(engine.vocab))  # two steps per call
    parts, features, state_parts = engine.target_log_probs_features(inputs, targets)
    assert features.shape[:2] == (9, 3)
    assert np.allclose(whole, parts, atol=1e-5) and all(np.allclose(a, b, atol=1e-5) for a, b in zip(state, state_parts))
