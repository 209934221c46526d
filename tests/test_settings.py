"""Settings come from PARAGRAPHS_* variables and .env, with safe embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paragraphs.settings import DEFAULT_DATABASE_URL, Settings


class TestSettings:
    def test_embedded_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("DATABASE_URL", "REDIS_URL", "BROKER_URL", "OFFLINE", "API_KEYS"):
            monkeypatch.delenv(f"PARAGRAPHS_{name}", raising=False)
        settings = Settings(_env_file=None)
        assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///./data/paragraphs.db"
        assert settings.redis_url is None
        assert settings.broker_url is None
        assert settings.offline is False
        assert settings.metaphorpsum_url == "http://metaphorpsum.com"
        assert settings.dictionary_url == "https://api.dictionaryapi.dev/api/v2/entries/en"
        assert settings.api_keys == []

    def test_reads_prefixed_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PARAGRAPHS_DATABASE_URL", "postgresql://postgres@db:5432/paragraphs")
        monkeypatch.setenv("PARAGRAPHS_OFFLINE", "true")
        monkeypatch.setenv("PARAGRAPHS_UPSTREAM_TIMEOUT", "2.5")
        monkeypatch.setenv("PARAGRAPHS_METAPHORPSUM_URL", "http://127.0.0.1:9999/")
        monkeypatch.setenv("PARAGRAPHS_API_KEYS", "one, two")
        settings = Settings(_env_file=None)
        assert settings.database_url == "postgresql://postgres@db:5432/paragraphs"
        assert settings.offline is True
        assert settings.upstream_timeout == 2.5
        assert settings.metaphorpsum_url == "http://127.0.0.1:9999"
        assert [key.get_secret_value() for key in settings.api_keys] == ["one", "two"]

    def test_reads_an_env_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("PARAGRAPHS_REDIS_URL", raising=False)
        env_file = tmp_path / ".env"
        env_file.write_text("PARAGRAPHS_REDIS_URL=redis://cache:6379/0\n")
        assert Settings(_env_file=env_file).redis_url == "redis://cache:6379/0"

    @pytest.mark.parametrize(
        ("name", "value"),
        [("database_url", "mysql://root@localhost/x"), ("upstream_timeout", 0), ("log_level", "loud")],
    )
    def test_rejects_unusable_values(self, name: str, value: object) -> None:
        with pytest.raises(ValidationError, match=name):
            Settings.model_validate({name: value})

    def test_secret_keys_do_not_show_in_repr(self) -> None:
        settings = Settings.model_validate({"api_keys": "hunter2"})
        assert "hunter2" not in repr(settings)
