"""nginx in front of the site keeps a page until it is told another publication is current
(caching/proxy.py): the shipped configuration, a real nginx, the real pages."""

import dataclasses
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from caching import pointer, proxy
from tests.caching.test_page_cache import BR, a_ward
from tests.operations.own_postgres import free_port

pytestmark = [pytest.mark.london, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def front(site, settings):
    """nginx from deploy/, rendered into var/ (its workers, www-data, must reach the cache)."""
    (ROOT / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-nginx-", dir=ROOT / "var"))
    folder.chmod(0o755)
    port = free_port()
    env = {
        "PATH": "/usr/sbin:/usr/bin:/bin",
        "OPEN_DATA_ROOT": str(folder / "opendata"),
        "NGINX_LISTEN": f"127.0.0.1:{port}",
        "GUNICORN_ADDR": site.removeprefix("http://"),
    }
    subprocess.run([ROOT / "deploy/local/nginx.sh", "render", str(folder)], env=env, check=True)
    conf = ["-p", str(folder), "-c", str(folder / "nginx.conf")]
    subprocess.run(["nginx", *conf], check=True, capture_output=True)
    settings.FRONT_PROXY_DIR = str(folder)
    settings.PAGE_CACHE_S_MAXAGE = 1
    yield f"http://127.0.0.1:{port}"
    subprocess.run(["nginx", "-s", "quit", *conf], capture_output=True)
    time.sleep(0.5)
    shutil.rmtree(folder, ignore_errors=True)


def cache_status(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept-Encoding": BR["HTTP_ACCEPT_ENCODING"]})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        assert response.status == 200
        assert "X-Accel-Expires" not in response.headers  # for nginx only
        return response.headers["X-Cache"]


def test_nginx_keeps_a_page_past_s_maxage_until_its_cache_is_emptied_at_a_switch(front):
    url = front + a_ward(3).get_absolute_url()
    assert cache_status(url) == "MISS"
    assert cache_status(url) == "HIT"
    time.sleep(2)  # past s-maxage (1 s here): X-Accel-Expires keeps it, no revalidation
    assert cache_status(url) == "HIT"

    pointer.forget()
    current = pointer.current()
    assert proxy.announce(current, settle=False) is True
    assert proxy.announced() == proxy.version(current)
    assert cache_status(url) == "MISS"  # no file: asked for afresh, no reload needed
    assert cache_status(url) == "HIT"
    assert proxy.announce(current, settle=False) is False  # already emptied for it
    assert cache_status(url) == "HIT"

    # A new page-text generation (or publication) empties it again.
    later = dataclasses.replace(current, generation=current.generation + 1)
    assert proxy.version(later) != proxy.version(current)
    assert proxy.announce(later, settle=False) is True
    assert cache_status(url) == "MISS"
    error_log = (Path(settings.FRONT_PROXY_DIR) / "error.log").read_text()
    assert "[crit]" not in error_log and "[error]" not in error_log


def test_without_a_proxy_to_tell_django_leaves_nginx_to_s_maxage(london, client, settings):
    url = a_ward(4).get_absolute_url()
    settings.FRONT_PROXY_DIR = ""
    assert "X-Accel-Expires" not in client.get(url, **BR)
    assert proxy.announce(pointer.current(), settle=False) is False
    settings.FRONT_PROXY_DIR = "/nonexistent"
    settings.PAGE_CACHE_PROXY_SECONDS = 3600
    assert client.get(url, **BR)["X-Accel-Expires"] == "3600"


@pytest.mark.parametrize(
    ("path", "kind"), [("/favicon.ico", "image/x-icon"), ("/robots.txt", "text/plain")]
)
def test_root_files_are_served_by_nginx_and_by_django(front, client, path, kind):
    """Every new visitor's browser asks for /favicon.ico: a file, never a rendered 404."""
    with urllib.request.urlopen(front + path, timeout=30) as response:
        body = response.read()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(kind)
        assert "X-Cache" not in response.headers  # nginx's own file, Django never asked
    direct = client.get(path)  # WhiteNoise, where nginx is not in front
    assert direct.status_code == 200
    assert b"".join(direct.streaming_content) == body
    assert body == (ROOT / "static" / "root" / path.lstrip("/")).read_bytes()


def test_pages_name_their_icon(london, client):
    html = client.get("/").content.decode()
    assert 'rel="icon"' in html and "img/icon" in html
