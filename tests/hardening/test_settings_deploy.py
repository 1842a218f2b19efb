"""Production settings, as the environment gives them, pass `manage.py check --deploy` with no
warning; without HTTPS (local runs) nothing redirects or needs secure cookies."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "crimemap.example",
    "HTTPS": "1",
    "DEBUG": "0",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never does.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
    )


def test_production_passes_check_deploy_with_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (1 silenced)." in result.stdout


PRINT = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER)"
)


def test_https_settings_come_from_the_environment():
    on = _manage("shell", "-c", PRINT, **PRODUCTION)
    assert on.stdout.strip().splitlines()[-1] == (
        "True True True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    off = _manage("shell", "-c", PRINT, **(PRODUCTION | {"HTTPS": "0"}))
    assert off.stdout.strip().splitlines()[-1] == "False False False 0 False False None"
