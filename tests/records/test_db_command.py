"""`labellisation db upgrade` as an operator runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

LAUNCHER = Path(sys.executable).parent / "labellisation"


def test_db_upgrade_creates_the_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    env = {**os.environ, "LABELLISATION_DATABASE_URL": url}
    result = subprocess.run([str(LAUNCHER), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Base des dossiers à jour" in result.stdout
    with sqlite3.connect(tmp_path / "records.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"projects", "events", "reminders", "api_tokens"} <= tables
    # WAL lives in the file, so the API's readers never wait on the worker's writes.
    with sqlite3.connect(tmp_path / "records.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_db_upgrade_on_an_unreachable_server_says_so_without_a_stack_trace(tmp_path: Path) -> None:
    env = {**os.environ, "LABELLISATION_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    result = subprocess.run([str(LAUNCHER), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "migration impossible" in result.stderr
    assert "Traceback" not in result.stderr
