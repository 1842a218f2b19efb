"""A throwaway Redis of a test's (or a benchmark's) own, on its own port: stopping it never
touches the project's shared Redis on 56379."""

import subprocess
import time
from pathlib import Path


def start_redis(port: int, folder: Path, *options: str) -> subprocess.Popen:
    """Started and answering PING; nothing saved to disk. `options`: more redis-server flags."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            *options,
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout:
            return process
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")
