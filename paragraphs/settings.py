"""Every knob of the service: one pydantic-settings class, read from `PARAGRAPHS_*` and `.env`."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable
from typing import Annotated

from limits import parse_many
from pydantic import AfterValidator, AnyUrl, Field, SecretStr, TypeAdapter, UrlConstraints, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/paragraphs.db"
ENV_PREFIX = "PARAGRAPHS_"
# Variables with these prefixes belong to the test suite and the benchmarks, not to the service.
NOT_SETTINGS_PREFIXES = ("PARAGRAPHS_TEST_", "PARAGRAPHS_BENCH_")


def _url_of(*schemes: str) -> AfterValidator:
    """A URL kept as a string, checked by pydantic's URL parser (scheme, host, port)."""
    adapter = TypeAdapter(Annotated[AnyUrl, UrlConstraints(allowed_schemes=list(schemes), host_required=True)])

    def check(value: str) -> str:
        adapter.validate_python(value)
        return value

    return AfterValidator(check)


RedisUrl = Annotated[str, _url_of("redis", "rediss")]
BrokerUrl = Annotated[str, _url_of("redis", "rediss", "amqp", "amqps", "pyamqp")]
HttpUrl = Annotated[str, _url_of("http", "https")]


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

    search_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="Time budget of one search in the database; past it the search is cancelled and answered 503.",
    )

    # --- cache and jobs ---
    redis_url: RedisUrl | None = Field(default=None, description="Redis for the cache; unset: in-process cache.")
    memory_cache_max_bytes: int = Field(
        default=64 * 2**20,
        ge=0,
        description="Bytes of values the in-process cache keeps (used without Redis), least recently used out first.",
    )
    broker_url: BrokerUrl | None = Field(
        default=None, description="Celery broker (redis:// or amqp://); unset: in-process jobs."
    )
    worker_silence_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="Readiness says `queue: degraded` when no Celery worker has answered a ping for this long.",
    )
    job_retry_initial_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="A failed Celery job runs again after this long, doubling per attempt (at most 60 s), "
        "5 retries in all; then it counts as `failed`.",
    )

    # --- upstreams ---
    metaphorpsum_url: HttpUrl = Field(
        default="http://metaphorpsum.com",
        description="Paragraph source; the service requests {url}/paragraphs/1/50.",
    )
    dictionary_url: HttpUrl = Field(
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
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Processes `paragraphs serve` runs; unset: one per core on PostgreSQL, one on SQLite.",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    log_json: bool = Field(default=False, description="Logs as JSON lines instead of console text.")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; when set, writes need `Authorization: Bearer <key>` or `X-API-Key`.",
    )

    # --- rate limits (docs/operations.md, "Rate limits") ---
    rate_limits_enabled: bool = Field(
        default=True, description="Limit requests per client on /fetch, writes and /search."
    )
    rate_limit_fetch: str = Field(
        default="60/minute", description="POST /fetch per client (protects metaphorpsum), e.g. `60/minute`."
    )
    rate_limit_write: str = Field(
        default="6000/minute", description="POST, PUT and DELETE /paragraphs per client; `;` separates several limits."
    )
    rate_limit_search: str = Field(default="300000/minute", description="GET and POST /search per client.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks of proxies whose X-Forwarded-For names the client.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in {"sqlite", "postgresql", "postgres"} or "://" not in value:
            raise ValueError("must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
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

    @field_validator("rate_limit_fetch", "rate_limit_write", "rate_limit_search")
    @classmethod
    def _valid_limits(cls, value: str) -> str:
        try:
            items = parse_many(value)
        except ValueError as exc:
            raise ValueError(
                f"not a rate limit ({value!r}): write it as `60/minute` or `10/second;600/minute`"
            ) from exc
        if any(item.amount < 1 for item in items):
            raise ValueError(
                f"a rate limit allows at least 1 request ({value!r}); to turn limits off set rate_limits_enabled"
            )
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for part in value:
                ipaddress.ip_network(str(part), strict=False)  # ValueError names the bad entry
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value


def setting_variables() -> list[str]:
    """Every variable name that is a setting: `PARAGRAPHS_` and the field's name in capitals."""
    return sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)


def unknown_variables(names: Iterable[str]) -> list[str]:
    """One sentence per `PARAGRAPHS_*` name that is not a setting, with the closest real name."""
    known = setting_variables()
    problems = []
    for name in names:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper.startswith(NOT_SETTINGS_PREFIXES) or upper in known:
            continue
        # Compared without the prefix, which every name shares and which would make anything look close.
        close = difflib.get_close_matches(
            upper.removeprefix(ENV_PREFIX), [k.removeprefix(ENV_PREFIX) for k in known], 1
        )
        hint = f"did you mean {ENV_PREFIX}{close[0]}?" if close else "the settings are listed in README.md, Settings"
        problems.append(f"{name}: no such setting; {hint}")
    return problems
