"""A throwaway PostgreSQL/PostGIS cluster of a test's own: initdb under a temp dir, its own port,
stopped and started by the test. The shared cluster on port 55432 is never touched: a fault test
that stopped it would take every other test (and a running `make run`) down with it."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} missing: run `make test`, which installs PostgreSQL")
    return found[-1]


class Cluster:
    """PostgreSQL refuses to run as root, so as root it runs as `postgres`, like
    deploy/local/services.sh; its folder is in /tmp because pytest's is closed to that user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="crimemap-own-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_owner([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"])
        self._as_owner(["touch", str(self.log)])

    def _as_owner(self, command: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            prefix + command, check=True, capture_output=True, env={**os.environ, "LC_ALL": "C"}
        )

    def url(self, database: str) -> str:
        return f"postgis://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        pg_ctl = [_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start"]
        self._as_owner([*pg_ctl, "-o", options])

    def stop(self, mode: str = "fast") -> None:
        self._as_owner([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def sql(self, statement: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [_bin("psql"), "-qtAX", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + ["-d", database, "-v", "ON_ERROR_STOP=1", "-c", statement],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def running(self) -> bool:
        status = [_bin("pg_ctl"), "-D", str(self.data), "status"]
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + status, capture_output=True).returncode == 0

    def remove(self) -> None:
        """Stop (if running) and delete everything: safe to call from a fixture's teardown."""
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_for(condition, *, seconds: float, what: str, step: float = 0.1):
    """Poll until `condition()` is truthy and return it; fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"after {seconds} s still waiting for {what}")
