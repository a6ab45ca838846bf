"""Online backup and restore of the SQLite database (PostgreSQL: use pg_dump/pg_restore, see the README)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A Vietnamese message for the operator."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "Lệnh này chỉ dành cho SQLite. Với PostgreSQL hãy dùng: pg_dump -Fc -f survey.dump \"$DB\" "
            "và pg_restore --clean -d \"$DB\" survey.dump"
        )
    return Path(url.database)


def backup(database_url: str, target: Path) -> int:
    """A consistent copy made with SQLite's online backup API (safe while the server is running)."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"Không tìm thấy cơ sở dữ liệu {source_path}.")
    if target.exists():
        raise BackupError(f"Tệp {target} đã tồn tại; chọn tên khác.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source_path) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target.stat().st_size


def restore(database_url: str, source: Path) -> None:
    """Replace the database with a backup (stop the server first). The backup is checked before anything changes."""
    target_path = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"Không tìm thấy tệp sao lưu {source}.")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
        try:
            ok = check.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"Tệp {source} không phải cơ sở dữ liệu SQLite hợp lệ.") from exc
    if not ok or ok[0] != "ok" or "response" not in tables:
        raise BackupError(f"Tệp {source} không phải bản sao lưu hợp lệ của hệ thống.")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target_path) as dst:
        src.backup(dst)
