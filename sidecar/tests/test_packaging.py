"""The product package ships alone: no benchmark, demo or simulator inside it, and it imports none of them."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

SIDECAR = Path(__file__).resolve().parents[1]
TOOLS = ("hold_slayer_sim", "hold_slayer_tools")


def test_the_installed_package_is_the_product_only() -> None:
    project = tomllib.loads((SIDECAR / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["hold_slayer_sidecar*"]
    assert not (SIDECAR / "hold_slayer_sidecar" / "bench").exists()
    assert not (SIDECAR / "hold_slayer_sidecar" / "demo.py").exists()


def test_the_product_imports_no_tool_or_simulator() -> None:
    offenders = []
    for path in sorted((SIDECAR / "hold_slayer_sidecar").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            offenders += [f"{path.relative_to(SIDECAR)}: {name}" for name in names if name.split(".")[0] in TOOLS]
    assert offenders == []
