from __future__ import annotations

import os
from pathlib import Path

import pytest

from paragraphs import serving
from paragraphs.settings import Settings


class TestDefaultWorkers:
    def test_sqlite_runs_one_process(self) -> None:
        assert serving.default_workers(Settings(_env_file=None, database_url="sqlite:///x.db")) == 1

    def test_postgresql_runs_one_per_core(self) -> None:
        settings = Settings(_env_file=None, database_url="postgresql://u@h/db")
        assert serving.default_workers(settings) == os.cpu_count()

    def test_the_setting_wins(self) -> None:
        assert serving.default_workers(Settings(_env_file=None, database_url="sqlite:///x.db", workers=3)) == 3


class TestMultiprocessMetrics:
    def test_one_process_keeps_metrics_in_memory(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(serving.MULTIPROC_ENV, raising=False)
        with serving.multiprocess_metrics(1) as directory:
            assert directory is None
            assert serving.MULTIPROC_ENV not in os.environ

    def test_several_get_a_directory_removed_afterwards(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(serving.MULTIPROC_ENV, raising=False)
        with serving.multiprocess_metrics(2) as directory:
            assert directory is not None
            assert directory.is_dir()
            assert os.environ[serving.MULTIPROC_ENV] == str(directory)
        assert not directory.exists()
        assert serving.MULTIPROC_ENV not in os.environ

    def test_a_given_directory_is_emptied_and_kept(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(serving.MULTIPROC_ENV, str(tmp_path))
        (tmp_path / "counter_42.db").write_bytes(b"old")
        (tmp_path / "notes.txt").write_text("not ours")
        with serving.multiprocess_metrics(1) as directory:
            assert directory == tmp_path
            assert not (tmp_path / "counter_42.db").exists()
        assert (tmp_path / "notes.txt").exists()
