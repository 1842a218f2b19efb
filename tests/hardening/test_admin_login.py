"""The admin: sign-in throttled by django-axes, strong passwords, its address a setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def _login(client, password: str, address: str):
    return client.post(
        reverse("admin:login"),
        {"username": "editor", "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_username_from_that_address(client):
    User.objects.create_user("editor", password="a-long-enough-password", is_staff=True)
    statuses = [_login(client, f"wrong-{i}", "192.0.2.60").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    locked = _login(client, "a-long-enough-password", "192.0.2.60")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    elsewhere = _login(client, "a-long-enough-password", "192.0.2.61")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == reverse("admin:index")


@pytest.mark.parametrize("password", ["short-pw-1", "password1234", "123456789012"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_admin_address_is_a_setting():
    env = dict(os.environ, ADMIN_URL="/staff-7f3a/", SECRET_KEY="x" * 60)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.urls import reverse; print(reverse('admin:index'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "/staff-7f3a/"
