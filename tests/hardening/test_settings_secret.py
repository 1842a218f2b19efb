"""SECRET_KEY: from the environment or a key file; without either the site refuses to start
(it used to fall back silently to a string published in this repository)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def _settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    clean |= {"DJANGO_SETTINGS_MODULE": "crimemap.settings"}
    clean.setdefault("SECRET_KEY_FILE", str(tmp_path / "no-such-file"))
    clean |= env
    return subprocess.run(
        [sys.executable, "-c", LOAD], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_without_a_key_the_site_refuses_to_start(tmp_path):
    result = _settings(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_key_from_the_environment(tmp_path):
    result = _settings(tmp_path, SECRET_KEY="k" * 10 + "from-the-environment")
    assert result.returncode == 0 and result.stdout.strip() == "kkkkkkkkkkfrom-the-environment"


def test_a_key_from_a_file(tmp_path):
    key = tmp_path / "secret-key"
    key.write_text("a-key-read-from-a-file\n")
    result = _settings(tmp_path, SECRET_KEY_FILE=str(key))
    assert result.returncode == 0 and result.stdout.strip() == "a-key-read-from-a-file"


def test_debug_runs_with_a_throwaway_key(tmp_path):
    result = _settings(tmp_path, DEBUG="1")
    assert result.returncode == 0
    assert len(result.stdout.strip()) >= 50
    assert "crimemap-development-only" not in result.stdout
