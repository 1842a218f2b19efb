"""The shipped nginx configuration is valid for the nginx `make run` installs."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_nginx_configuration_passes_nginx_t(tmp_path):
    if shutil.which("nginx") is None:
        pytest.fail("nginx not installed: run `make test`, which installs it")
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "OPEN_DATA_ROOT": str(tmp_path / "opendata")}
    result = subprocess.run(
        [ROOT / "deploy/local/nginx.sh", "test", str(tmp_path / "nginx")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert "${" not in conf  # every placeholder filled in
    for directive in (
        "proxy_cache_lock on",
        "proxy_cache_use_stale updating error timeout",
        "proxy_cache_background_update on",
        "limit_req zone=lookups",
        "limit_req zone=feedback",
        "keepalive 64",
    ):
        assert directive in conf
