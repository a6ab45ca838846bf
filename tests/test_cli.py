"""The command line as an operator uses it, against a fresh SQLite file (subprocesses, real migrations)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from survey_app.config import PROJECT_ROOT

EXE = [sys.executable, "-m", "survey_app.cli"]


def run(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(EXE + args, env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed: {result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("cli") / "cli.sqlite3"
    e = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{db}", "SURVEY_BASE_URL": "https://khaosat.example.vn"}
    out = run(["init"], e).stdout
    assert "3321" in out and "Cơ sở dữ liệu đã sẵn sàng." in out
    return e


def test_init_is_idempotent(env: dict[str, str]) -> None:
    out = run(["init"], env).stdout
    assert "3321" not in out and "Cơ sở dữ liệu đã sẵn sàng." in out


def test_points_add_list_export(env: dict[str, str]) -> None:
    added = run(["points", "add", "--commune", "03667", "--sector", "health", "--name", "Trạm Y tế phường Chiềng An"], env)
    code, url = added.stdout.strip().split("\t")
    assert code == "03667-YT-01" and url.startswith("https://khaosat.example.vn/q/")
    assert "Trạm Y tế phường Chiềng An" in run(["points", "list"], env).stdout
    rows = list(csv.reader(io.StringIO(run(["points", "export"], env).stdout)))
    assert rows[0] == ["code", "name", "commune_code", "sector", "url", "active"]
    assert rows[1] == [code, "Trạm Y tế phường Chiềng An", "03667", "health", url, "1"]


def test_points_add_errors_are_clear(env: dict[str, str]) -> None:
    bad = run(["points", "add", "--commune", "99999", "--sector", "health", "--name", "X"], env, check=False)
    assert bad.returncode == 2 and "Không tìm thấy xã/phường" in bad.stderr and "Traceback" not in bad.stderr


def test_users_create_and_list(env: dict[str, str]) -> None:
    out = run(["users", "create", "syt", "--role", "reviewer", "--sector", "health", "--password", "mot-mat-khau-dai"], env).stdout
    assert "syt" in out
    assert "syt\treviewer" in run(["users", "list"], env).stdout


def test_reports_refresh_builds_the_sums_once(env: dict[str, str]) -> None:
    first = run(["reports", "refresh"], env).stdout
    assert "Đã cập nhật số liệu tổng hợp cho báo cáo" in first
    assert "thêm 0 phiếu" in run(["reports", "refresh"], env).stdout  # nothing pending the second time


def test_edited_published_questionnaire_refuses_to_start(env: dict[str, str], tmp_path: Path) -> None:
    qdir = tmp_path / "q"
    shutil.copytree(PROJECT_ROOT / "questionnaires", qdir)
    path = qdir / "health.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Ông/Bà", "Anh/Chị", 1), encoding="utf-8")
    result = run(["serve", "--port", "1"], {**env, "SURVEY_QUESTIONNAIRE_DIR": str(qdir)}, check=False)
    assert result.returncode == 1
    assert "đã được công bố và không được sửa" in result.stderr and "Traceback" not in result.stderr


def test_production_refuses_placeholder_secret(env: dict[str, str]) -> None:
    result = run(["init"], {**env, "SURVEY_ENVIRONMENT": "production"}, check=False)
    assert result.returncode == 1 and "SURVEY_SECRET_KEY" in result.stderr


def test_backup_and_restore(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "backup.sqlite3"
    assert "Đã sao lưu" in run(["backup", str(target)], env).stdout
    assert run(["backup", str(target)], env, check=False).returncode == 2  # never overwrites
    before = run(["points", "export"], env).stdout
    run(["points", "add", "--commune", "03667", "--sector", "one_stop", "--name", "Thêm sau sao lưu"], env)
    assert "Đã khôi phục" in run(["restore", str(target)], env).stdout
    assert run(["points", "export"], env).stdout == before
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database")
    bad = run(["restore", str(junk)], env, check=False)
    assert bad.returncode == 2 and "không phải" in bad.stderr
    pg = run(["backup", str(tmp_path / "x")], {**env, "SURVEY_DATABASE_URL": "postgresql+psycopg://u@h/db"}, check=False)
    assert pg.returncode == 2 and "pg_dump" in pg.stderr
