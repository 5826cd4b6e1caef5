"""The import rules of docs/architecture.md, as ``lint-imports`` checks them in ``make test``.

The contracts live in pyproject.toml (``[tool.importlinter]``). These tests run the real
tool: once on the tree as it is, which must keep every contract, and once on a copy
with one forbidden import added, which must break the contract that forbids it. So a
rule that stops biting (a contract mistyped, a package left out) fails here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "madoguchi",
    "benchmarks",
    "installer",
    "testbed",
    "agent",
    "operator_console",
    "relay",
    "client_core",
    "protocol",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's packages (Python files only) and its pyproject.toml."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            root / package,
            ignore=lambda folder, names: (
                [n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()]
                + ["__pycache__"]
            ),
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("protocol/_probe.py", "import client_core", "One layer per package"),
        ("client_core/_probe.py", "from agent import state", "One layer per package"),
        ("agent/_probe.py", "import operator_console.client", "One layer per package"),
        ("operator_console/_probe.py", "from agent.session import AgentSession", "One layer per package"),
        ("agent/_probe.py", "from relay import registry", "One layer per package"),
        ("operator_console/_probe.py", "import testbed.world", "One layer per package"),
        ("relay/_probe.py", "import testbed", "One layer per package"),
        ("relay/_probe.py", "from client_core import rtc", "The relay imports protocol only"),
        ("testbed/_probe.py", "import benchmarks", "One layer per package"),
        ("agent/_probe.py", "def later() -> None:\n    import madoguchi.cli", "One layer per package"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, line: str, contract: str) -> None:
    probe = tree / module
    probe.write_text(line + "\n", encoding="utf-8")
    try:
        result = _lint(tree)
    finally:
        probe.unlink()
    assert result.returncode != 0, result.stdout
    _, _, report = result.stdout.partition("Broken contracts")
    first_broken = next(row for row in report.splitlines() if row.strip("- \t"))
    assert first_broken.startswith(contract), result.stdout
    # The report names the probe's own import, not some other path.
    assert module.removesuffix(".py").replace("/", ".") + " ->" in report, result.stdout
