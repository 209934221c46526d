"""The real `paragraphs serve` process, started for end-to-end tests and spoken to over HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any PARAGRAPHS_* setting, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARAGRAPHS_")}
    env.update(settings)
    return env


def run_cli(
    args: list[str],
    settings: Mapping[str, str],
    *,
    stdin: str | bytes | None = None,
    cwd: Path | None = None,
    close_stdin: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m paragraphs ARGS` to completion (bounded: a hang fails the test); `close_stdin` runs it
    with file descriptor 0 closed, as `cmd <&-` in a shell."""
    command = [sys.executable, "-m", "paragraphs", *args]
    if close_stdin:
        command = ["/bin/sh", "-c", 'exec "$@" <&-', "sh", *command]
    result = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        command,
        env=cli_env(settings),
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start(
    args: list[str], settings: Mapping[str, str], log_path: Path, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """`python -m paragraphs ARGS` in the background, its output into `log_path`."""
    with log_path.open("w") as log_file:
        return subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "paragraphs", *args],
            env=cli_env(settings),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
        )


@contextmanager
def serve(
    settings: Mapping[str, str], log_dir: Path, cwd: Path | None = None, *, args: Sequence[str] = ()
) -> Iterator[Server]:
    """Start `paragraphs serve [ARGS]` on a free port; yield once /health answers; stop it afterwards.

    One process unless ARGS ask for more (`serve` runs one per core on PostgreSQL by default): the
    tests count connections and read one process's state."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    if "--workers" not in args:
        args = [*args, "--workers", "1"]
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port), *args], settings, log_path, cwd)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if it has not ended after 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy in {STARTUP_TIMEOUT_S} s:\n{server.log()}")


def _sockets_on(port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets on local `port` in `state` (Linux: /proc/net/tcp*; 01
    established, 0A listening), as a process's descriptors name them (`socket:[inode]`)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.append(f"socket:[{fields[9]}]")
    return found


def connections_per_worker(parent: int, port: int) -> list[int]:
    """The connections to `port` held by each worker process of `parent`, most first."""
    established = set(_sockets_on(port, "01"))
    held = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        count = 0
        for descriptor in Path(f"/proc/{child}/fd").iterdir():
            with contextlib.suppress(OSError):
                count += os.readlink(descriptor) in established
        held.append(count)
    return sorted((count for count in held if count), reverse=True)


def listening_sockets(port: int) -> int:
    """Sockets listening on `port`: one per `serve` worker once each listens (one in all if they share one)."""
    return len(_sockets_on(port, "0A"))
