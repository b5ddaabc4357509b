"""The import contracts of ``.importlinter`` hold: adapters cannot reach the engine but
through the governed service layer, and only policy mints grants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_lint_imports_keeps_every_contract() -> None:
    tool = Path(sys.executable).parent / "lint-imports"
    if not tool.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([str(tool), "--no-cache"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert result.stdout.count("KEPT") == 13


def test_the_click_contract_names_every_module_but_the_command_line() -> None:
    """Only ``facegate.cli`` may import click: the contract lists every other top-level
    module and package, so a new one cannot slip past it."""
    import configparser

    import facegate

    config = configparser.ConfigParser()
    config.read(REPO / ".importlinter")
    listed = {line.strip() for line in
              config["importlinter:contract:click-only-in-cli"]["source_modules"].splitlines()
              if line.strip() and not line.strip().startswith("#")}
    root = Path(facegate.__file__).parent
    top = {f"facegate.{p.stem}" for p in root.glob("*.py") if p.stem != "__init__"}
    top |= {f"facegate.{p.parent.name}" for p in root.glob("*/__init__.py")}
    assert listed == top - {"facegate.cli"}
