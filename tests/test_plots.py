"""Pictures: the gradient-flow and training-curve PNGs exist, have the expected size, are not blank."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import SAMPLE


def png_pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(str(path))


def assert_real_picture(path, min_width=600, min_height=350):
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = png_pixels(path)
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= min_height, (width, height)
    assert float(np.std(pixels[..., :3])) > 0.02  # not a blank canvas


def test_gradients_rnn_vanishes_far_faster_than_lstm(cli, tmp_path):
    picture = tmp_path / "gradients.png"
    result = cli.ok("gradients", "--model", "rnn,lstm", "--length", "100", "--json", "--plot", picture)
    report = json.loads(result.stdout)
    by_model = {m["model"]: m for m in report["models"]}
    ratio = {name: m["h_norm"][50] / m["h_norm"][0] for name, m in by_model.items()}
    assert ratio["rnn"] * 100 <= ratio["lstm"], ratio
    assert by_model["lstm"]["c_norm"] and by_model["lstm"]["forget_gate_mean"]
    assert "rnn" in result.stderr and "mean forget gate" in result.stderr
    assert_real_picture(picture)


def test_gradients_on_a_trained_run(cli, tmp_path):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--max-steps", "3", "--hidden", "16",
           "--embed", "8", "-q")
    report = json.loads(cli.ok("gradients", "-c", run, "--text", "The old miller walked", "--json").stdout)
    assert len(report["models"][0]["h_norm"]) == len("The old miller walke")


def test_plot_overlays_runs(cli, tmp_path):
    runs = []
    for clip in ("0", "1"):
        run = tmp_path / f"clip-{clip}"
        cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--model", "rnn", "--clip", clip,
               "--max-steps", "12", "--eval-every", "4", "--hidden", "16", "--embed", "8", "-q")
        runs.append(run)
    picture = tmp_path / "curves.png"
    result = cli.ok("plot", *runs, "-o", picture)
    assert result.stdout == ""
    assert_real_picture(picture)


@pytest.mark.parametrize("args, message", [
    (["gradients", "--model", "transformer"], "--model"),
    (["plot", "/no/such/run", "-o", "x.png"], "no such run directory"),
])
def test_lecture_commands_refuse_bad_input(cli, args, message):
    from tests.conftest import assert_one_error

    result = cli(*args)
    assert result.exit_code in (1, 2)
    assert_one_error(result, result.exit_code, message)
