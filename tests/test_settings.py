"""Settings come from PARAGRAPHS_* variables and .env, with safe embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paragraphs.settings import DEFAULT_DATABASE_URL, Settings, setting_variables, unknown_variables
from paragraphs.startup import ConfigurationError, describe, load_settings


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


class TestStrictNames:
    def test_a_misspelt_variable_names_the_closest_setting(self) -> None:
        assert unknown_variables(["PARAGRAPHS_DATABSE_URL", "PARAGRAPHS_LOGLEVEL", "PARAGRAPHS_ZZZ"]) == [
            "PARAGRAPHS_DATABSE_URL: no such setting; did you mean PARAGRAPHS_DATABASE_URL?",
            "PARAGRAPHS_LOGLEVEL: no such setting; did you mean PARAGRAPHS_LOG_LEVEL?",
            "PARAGRAPHS_ZZZ: no such setting; the settings are listed in README.md, Settings",
        ]

    def test_settings_other_programs_and_the_suites_own_variables_pass(self) -> None:
        names = [*setting_variables(), "paragraphs_offline", "PATH", "PARAGRAPHS_TEST_REDIS_URL", "PARAGRAPHS_BENCH_X"]
        assert unknown_variables(names) == []

    def test_load_settings_refuses_an_unknown_name_in_the_env_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / ".env").write_text("PARAGRAPHS_OFLINE=true\n")
        with pytest.raises(ConfigurationError) as refused:
            load_settings()
        assert refused.value.problems == [
            "PARAGRAPHS_OFLINE: no such setting; did you mean PARAGRAPHS_OFFLINE? (in .env)"
        ]

    def test_load_settings_names_a_bad_value_and_where_it_came_from(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("PARAGRAPHS_REDIS_URL", "localhost:6379")
        with pytest.raises(ConfigurationError) as refused:
            load_settings()
        [problem] = refused.value.problems
        assert problem.startswith("PARAGRAPHS_REDIS_URL=localhost:6379 (in the environment): URL scheme should be")


class TestTypedUrls:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("redis_url", "localhost:6379"),
            ("redis_url", "http://localhost:6379"),
            ("broker_url", "localhost:5672"),
            ("broker_url", "redis://"),
            ("metaphorpsum_url", "metaphorpsum.com"),
            ("dictionary_url", "ftp://example.org/en"),
            ("database_url", "localhost:5432"),
        ],
    )
    def test_a_url_that_cannot_work_is_refused_naming_the_setting(self, name: str, value: str) -> None:
        with pytest.raises(ValidationError, match=name):
            Settings.model_validate({name: value})

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("redis_url", "redis://:pw@127.0.0.1:6379/0"),
            ("broker_url", "amqp://guest:guest@127.0.0.1:5672//"),
            ("broker_url", "redis://127.0.0.1:6379/1"),
            ("metaphorpsum_url", "http://127.0.0.1:9999"),
        ],
    )
    def test_usual_urls_are_kept_as_written(self, name: str, value: str) -> None:
        assert getattr(Settings.model_validate({name: value}), name) == value


class TestDescribe:
    def test_the_start_line_never_shows_a_password(self) -> None:
        settings = Settings.model_validate(
            {
                "database_url": "postgresql://app:s3cret@db.internal:6543/corpus",
                "redis_url": "redis://:s3cret@cache:6379/0",
                "broker_url": "amqp://guest:s3cret@mq:5672//",
            }
        )
        described = describe(settings)
        assert "s3cret" not in repr(described)
        assert described["database"] == "postgresql db.internal:6543/corpus as app"
        assert described["cache"] == "redis://:***@cache:6379/0"
        assert described["broker"] == "amqp://guest:***@mq:5672//"
