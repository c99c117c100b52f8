"""The package's layout: folders that mirror the workflow, imported in one direction only.

Layers, lowest first: the shared core (the modules directly under paretohqd/: config, io,
registry, selection, ...), then the stages' subpackages data, rewards and policy, then methods
(which build on them, one subpackage per method), evaluation, and after the run serving and
publishing (hub folders and model cards). A module imports from its own subpackage, the core
and lower layers, never upward nor sideways into another subpackage of its layer, and the
import graph has no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "paretohqd"
LAYERS = {"": 0, "data": 1, "rewards": 1, "policy": 1, "methods": 2, "evaluation": 3,
          "serving": 4, "publishing": 4}


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The paretohqd modules a file imports (anywhere in it, function bodies included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("paretohqd")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paretohqd"):
            found.add(node.module)
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package with the paretohqd modules it imports."""
    return {module_name(path, package): imports(path) for path in package.rglob("*.py")}


def subpackage(module: str) -> str:
    """A module's subpackage ('' for the core and the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def test_every_subpackage_has_a_layer_and_no_module_is_left_loose():
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir()
               and path.name != "__pycache__"}
    assert folders == set(LAYERS) - {""}
    for folder in folders:
        assert (PACKAGE / folder / "__init__.py").read_text().startswith('"""')


def wrong_imports(modules: dict[str, set[str]]) -> list[str]:
    """Imports of another subpackage in the same or a higher layer, and of missing modules."""
    wrong = []
    for module, targets in modules.items():
        for target in targets:
            source, dest = subpackage(module), subpackage(target)
            if target not in modules or (source != dest and LAYERS[dest] >= LAYERS[source]):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def test_imports_go_down_the_layers_only():
    assert wrong_imports(graph()) == []


def test_import_graph_has_no_cycles():
    modules = graph()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(modules[module]):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(modules):
        if module not in state:
            visit(module, [])


def test_the_layering_check_sees_upward_and_sideways_imports(tmp_path):
    """The check itself, on a made-up package: evaluation importing publishing (upward), data
    importing rewards and serving importing publishing (sideways) are reported; publishing
    importing evaluation is not."""
    root = tmp_path / "paretohqd"
    for folder in LAYERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "__init__.py").write_text('"""x"""\n')
    (root / "publishing/cards.py").write_text("from paretohqd.evaluation import front\n")
    (root / "evaluation/front.py").write_text(
        "def f():\n    from paretohqd.publishing.cards import x\n")
    (root / "serving/cli.py").write_text("from paretohqd.publishing import cards\n")
    (root / "data/prompts.py").write_text("import paretohqd.rewards.scorers\n")
    (root / "rewards/scorers.py").write_text("from paretohqd import io\n")
    (root / "io.py").write_text("")
    assert wrong_imports(graph(root)) == [
        "paretohqd.data.prompts -> paretohqd.rewards.scorers",
        "paretohqd.evaluation.front -> paretohqd.publishing.cards",
        "paretohqd.serving.cli -> paretohqd.publishing"]
