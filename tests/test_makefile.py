"""`make run` installs the runtime only; `make test` adds the dev tools (what `make -n` would do)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def planned(target: str) -> str:
    """The commands `make TARGET` would run from nothing (-B: as on a fresh clone), not run."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(  # noqa: S603 - make from PATH with fixed arguments
        ["make", "-n", "-B", target],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


class TestMakefile:
    def test_run_installs_the_runtime_dependencies_only(self) -> None:
        plan = planned("run")
        assert "pip install --quiet --require-hashes -r requirements.lock\n" in plan
        assert "pip install --quiet --no-deps -e .\n" in plan
        assert "requirements-dev.lock" not in plan
        assert "paragraphs serve" in plan

    def test_test_installs_the_dev_tools(self) -> None:
        plan = planned("test")
        assert "pip install --quiet --require-hashes -r requirements-dev.lock\n" in plan
        assert "pytest" in plan

    def test_dev_tools_are_not_runtime_dependencies(self) -> None:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        runtime = " ".join(project["dependencies"])
        for tool in ("pytest", "hypothesis", "schemathesis", "ruff", "mypy"):
            assert tool not in runtime
            assert any(dep.startswith(tool) for dep in project["optional-dependencies"]["dev"])


def pins(lock: str) -> dict[str, str]:
    """`name==version` lines of a lock file (uv's format: one requirement a line, hashes on the next)."""
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            found[name.strip().lower()] = rest.split()[0].split(";")[0]
    return found


class TestLockFiles:
    def test_every_pin_has_hashes_and_the_dev_lock_agrees_with_the_runtime_lock(self) -> None:
        runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
        assert runtime
        assert {name: dev.get(name) for name in runtime} == runtime
        for lock in ("requirements.lock", "requirements-dev.lock"):
            text = (ROOT / lock).read_text()
            assert text.count("==") <= text.count("--hash=sha256:")

    def test_the_runtime_lock_pins_every_runtime_dependency_and_no_dev_tool(self) -> None:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        runtime = pins("requirements.lock")
        for requirement in project["dependencies"]:
            name = requirement.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
            assert name in runtime, f"{name} is not pinned: run `make lock`"
        for tool in ("pytest", "hypothesis", "schemathesis", "ruff", "mypy"):
            assert tool not in runtime
