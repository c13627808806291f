"""The shape of the house, checked: imports point one way, the run set-up stays small and typed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rnncli"
SETUP_PATH = ["args.py", "plan.py", "execute.py", "callbacks.py", "api.py", "cli/train.py", "cli/declare.py"]


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every rnncli module a file imports, at module level or inside functions (``from rnncli
    import unigram_cache`` imports the module ``rnncli.unigram_cache``; ``from rnncli import
    __version__`` imports the package itself)."""
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnncli"):
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rnncli"))
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the rnncli modules it imports, the package's __init__ (whose API is imported lazily,
    inside a function) included."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def _is_cli(path: Path) -> bool:
    """The command-line layer: rnncli/cli/, each task folder's commands.py, and __main__."""
    parts = path.relative_to(PACKAGE).parts
    return "cli" in parts or path.name == "__main__.py" or (parts[0] == "tasks" and path.name == "commands.py")


def test_the_core_never_imports_the_cli_typer_or_rich():
    for path in PACKAGE.rglob("*.py"):
        if _is_cli(path):
            continue
        source = path.read_text()
        for banned in ("import typer", "from typer", "import rich", "from rich", "from rnncli.cli", "import rnncli.cli"):
            assert banned not in source, f"{path}: {banned}"
        commands = {m for m in _imports(path) if m.endswith(".commands")}
        assert not commands, f"{path} imports the command module {sorted(commands)}"


def test_no_function_in_the_run_setup_path_exceeds_40_lines():
    for name in SETUP_PATH:
        for node in ast.walk(ast.parse((PACKAGE / name).read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= 40, f"{name}:{node.lineno} {node.name} has {length} lines"


def test_no_private_imports_from_dependencies():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] not in ("rnncli", "__future__"):
                assert not any(part.startswith("_") for part in node.module.split(".")), f"{path}: {node.module}"


def test_planning_and_the_run_directory_import_no_torch():
    code = ("import sys, rnncli.plan, rnncli.args, rnncli.run.directory, rnncli.run.files, rnncli.tasks; "
            "[spec.part('planning') for spec in rnncli.tasks.tasks().values()]; "
            "print(sorted(m for m in ('torch', 'typer', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_function_in_the_package_exceeds_50_lines():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= 50, f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} has {length} lines"


def test_every_task_folder_provides_every_part_the_registry_names():
    """Walk the registry: each task is a folder with a TASK of its name, and each part it declares
    (rnncli.tasks.PARTS, and a counted engine where it counts models) imports and is callable or a
    module."""
    from rnncli.tasks import FOLDERS, PARTS, PLANNING, tasks

    found = tasks()
    assert [spec.folder for spec in found.values()] == list(FOLDERS)
    assert sorted(p.name for p in (PACKAGE / "tasks").iterdir() if p.is_dir() and p.name != "__pycache__") \
        == sorted(FOLDERS)
    for name, spec in found.items():
        assert spec.name == name and spec.title
        assert set(PARTS) <= set(spec.parts())
        for part in spec.parts():
            value = spec.part(part)
            assert callable(value) or part in ("commands", "planning"), f"{name}: part {part} is {value!r}"
        assert all(callable(getattr(spec.part("planning"), f, None)) for f in PLANNING), name


def test_the_house_names_no_task_data_class_or_engine():
    """Outside rnncli/tasks/<task>/, a task is reached through the registry: no module names the
    classes a task folder defines (its data, training task, engines)."""
    defined = set()
    for path in (PACKAGE / "tasks").glob("*/*.py"):
        defined |= {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)}
    assert {"LMData", "ClassifierData", "TorchLM", "TorchClassifier", "NGramLM", "ExportedLanguageModel",
            "ExportedClassifier", "LanguageModelTask", "ClassificationTask"} <= defined
    for path in PACKAGE.rglob("*.py"):
        if path.parent.parent == PACKAGE / "tasks":
            continue
        named = {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}
        named |= {a.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
                  for a in node.names}
        assert not named & defined, f"{path.relative_to(PACKAGE)} names {sorted(named & defined)}"


def test_reading_batching_and_search_are_written_once():
    """Windowed reading of a text, batching by length and beam search each have one home
    (rnncli/infer/); no other module slices a text into windows of columns, sorts sequences into
    length batches, or ranks beams."""
    homes = {"eval_grid(": "infer/reading.py", "key=lambda i: len(sequences[i])": "infer/batching.py",
             "def beam_search(": "infer/search.py"}
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        for marker, home in homes.items():
            if marker in source and not str(path).endswith(home) and not str(path).endswith("corpus.py"):
                raise AssertionError(f"{path.relative_to(PACKAGE)} does what {home} does ({marker})")


def test_command_options_are_declared_once_in_the_core():
    """Every command's options are fields of a dataclass in the core (rnncli/**/options.py,
    rnncli/args.py); rnncli/cli/declare.py alone turns them into Typer parameters. train's --quiet,
    a presentation flag never saved with a run, is the one option the CLI declares itself."""
    allowed = {"cli/declare.py", "cli/train.py"}
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        where = str(path.relative_to(PACKAGE))
        if where in allowed:
            continue
        assert "typer.Option(" not in source and "typer.Argument(" not in source, f"{where} declares an option"
    from rnncli.cli.app import app, register_commands

    register_commands()
    assert len(app.registered_commands) > 15
    for info in app.registered_commands:
        signature = getattr(info.callback, "__signature__", None)
        assert signature is not None, f"{info.name} is not built from a declaration"
