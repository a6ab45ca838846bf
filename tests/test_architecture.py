"""Import direction: analysis is a pure library; services never import the web framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from survey_app.config import PROJECT_ROOT

WEB = {"fastapi", "starlette", "jinja2"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_services_do_not_import_the_web_framework() -> None:
    for path in (PROJECT_ROOT / "survey_app" / "services").glob("*.py"):
        assert not (_imports(path) & WEB), path.name


def test_analysis_imports_nothing_from_the_app() -> None:
    code = "import sys, analysis; print(','.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    loaded = {m.split(".")[0] for m in out.stdout.strip().split(",")}
    assert not loaded & {"survey_app", "fastapi", "starlette", "sqlalchemy", "jinja2"}


def test_questionnaire_module_has_no_web_imports() -> None:
    assert not _imports(PROJECT_ROOT / "survey_app" / "questionnaire.py") & (WEB | {"sqlalchemy"})
