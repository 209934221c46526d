"""Every knob of the service: one pydantic-settings class, read from `PARAGRAPHS_*` and `.env`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/paragraphs.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PARAGRAPHS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- storage ---
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (embedded) or postgresql://USER@HOST:PORT/DB; the async driver is picked automatically.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL connections per process.")

    # --- cache and jobs ---
    redis_url: str | None = Field(default=None, description="Redis for the cache; unset: in-process cache.")
    broker_url: str | None = Field(
        default=None, description="Celery broker (redis:// or amqp://); unset: in-process jobs."
    )

    # --- upstreams ---
    metaphorpsum_url: str = Field(
        default="http://metaphorpsum.com",
        description="Paragraph source; the service requests {url}/paragraphs/1/50.",
    )
    dictionary_url: str = Field(
        default="https://api.dictionaryapi.dev/api/v2/entries/en",
        description="Dictionary; the service requests {url}/{word}.",
    )
    offline: bool = Field(default=False, description="Use the built-in generator and dictionary; no network at all.")
    dictionary_fallback: bool = Field(
        default=True, description="When dictionaryapi.dev has no entry for a word, ask the offline dictionary."
    )
    dictionary_deadline_s: float = Field(
        default=2.0, gt=0, le=60, description="Longest /dictionary waits for definitions it does not have yet."
    )
    upstream_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds per upstream call, retries included."
    )

    # --- HTTP server ---
    host: str = Field(default="127.0.0.1", description="Address `paragraphs serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `paragraphs serve` binds.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_json: bool = Field(default=False, description="Logs as JSON lines instead of console text.")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; when set, writes need `Authorization: Bearer <key>` or `X-API-Key`.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("PARAGRAPHS_DATABASE_URL must start with sqlite:// or postgresql://")
        return value

    @field_validator("metaphorpsum_url", "dictionary_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("log_level must be debug, info, warning or error")
        return level

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
