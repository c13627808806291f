"""An option of `rnncli train` is declared once, in rnncli.args; the rest derives from it.

The test adds a throwaway option in one place (a field) and follows it to the command line,
`--help`, the saved config.json and the --resume check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import typer
from typer.testing import CliRunner

from rnncli.args import TrainArgs, option
from rnncli.cli.app import RnncliGroup
from rnncli.cli.train import make_train_command
from tests.conftest import SAMPLE, assert_one_error

TINY = ["--level", "char", "--hidden", "8", "--embed", "8", "--batch-size", "4", "--bptt", "8", "--threads", "1"]


@dataclass(frozen=True)
class WithThrowaway(TrainArgs):
    throwaway: int | None = option(min=1, max=9, fixed=True, panel="Model", help="A throwaway option of this test.")


@pytest.fixture
def train_cli():
    app = typer.Typer(cls=RnncliGroup, add_completion=False)
    app.command("train")(make_train_command(WithThrowaway))
    app.command("other")(lambda: None)  # two commands keep `train` a subcommand
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["train", *map(str, args)], env={"COLUMNS": "200"})


def test_the_option_reaches_help(train_cli):
    result = train_cli("--help")
    assert result.exit_code == 0
    assert "--throwaway" in result.stdout and "A throwaway option of this test." in result.stdout


def test_the_option_is_parsed_checked_and_saved_as_given(train_cli, tmp_path):
    assert train_cli(SAMPLE / "english.txt", "-o", tmp_path / "bad", "--throwaway", "12").exit_code == 2
    run = tmp_path / "run"
    result = train_cli(SAMPLE / "english.txt", "-o", run, "--throwaway", "3", "--max-steps", "2", *TINY)
    assert result.exit_code == 0, result.stderr
    plan = json.loads((run / "config.json").read_text())["plan"]
    assert plan["args"]["throwaway"] == 3 and "throwaway" in plan["given"]
    assert "hidden" in plan["given"] and "dropout" not in plan["given"]


def test_the_resume_check_knows_the_option(train_cli, tmp_path):
    run = tmp_path / "run"
    assert train_cli(SAMPLE / "english.txt", "-o", run, "--throwaway", "3", "--max-steps", "2", *TINY).exit_code == 0
    assert_one_error(train_cli("-o", run, "--resume", "--throwaway", "4"), 2, "--resume cannot change --throwaway")
    result = train_cli("-o", run, "--resume", "--throwaway", "3", "--max-steps", "4")
    assert result.exit_code == 0, result.stderr
    assert json.loads((run / "config.json").read_text())["plan"]["args"]["throwaway"] == 3


def test_the_python_api_takes_the_same_names():
    args = WithThrowaway.of(corpus=["c.txt"], output="r", throwaway=2, batch_size=4)
    assert args.throwaway == 2 and args.given == {"corpus", "output", "throwaway", "batch_size"}
