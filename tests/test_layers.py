"""The package keeps its layers (cli, daemon > app > store | config > core) and its core does no
I/O: the import-linter contracts in pyproject.toml, checked on the real import graph (in a
process of its own: the linter's console output must not meet other tests' captured streams)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(linter), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2 kept, 0 broken" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0
