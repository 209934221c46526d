"""Finding the deploy tools (promtool, hadolint, docker compose): skipped locally when missing, required under CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.services import missing

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MONITORING = DEPLOY / "monitoring"


def tool(name: str, install_hint: str) -> str:
    # Tools installed by the dev dependencies live beside this Python, whether or not the venv is activated.
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        missing(f"{name} ({install_hint})", "PATH")
    assert path is not None
    return path


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
