"""The package keeps its layers (cli, daemon > app > store | config > core) and its core does no
I/O: the import-linter contracts in pyproject.toml, checked on the real import graph."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(capsys) -> None:  # noqa: ANN001
    here = Path.cwd()
    os.chdir(ROOT)  # import-linter finds the package from the working directory
    try:
        result = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    finally:
        os.chdir(here)
    output = capsys.readouterr().out
    assert "2 kept, 0 broken" in output, output
    assert result == 0
