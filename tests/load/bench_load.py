"""`make bench-load`: requests per second of the launch-day URL mix, with wrk, on loopback.

Starts its own stack on spare ports against the bench database (`make bench` loads it): nginx
from deploy/ in front of gunicorn with deploy/gunicorn.conf.py, and a Redis of its own (so it
can be stopped mid-run without touching anyone else's). Every run shares the machine's cores
with the load generator, so each figure comes with reference runs made in the same session.
Writes docs/benchmarks/<date>-load.md and docs/benchmarks/load-latest.md.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from tests.load.bench import REPORT_DIR, ROOT, bench_database_url, page_timings, run_manage
from tests.operations.own_redis import start_redis

NGINX_PORT, APP_PORT, REDIS_PORT = 18000, 18001, 56390
FRONT = f"http://127.0.0.1:{NGINX_PORT}"
APP = f"http://127.0.0.1:{APP_PORT}"
VAR = ROOT / "var" / "bench-load"
MIX = {"london": 5, "boroughs": 15, "wards": 60, "lsoas": 10, "postcodes": 5, "static": 5}


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "CACHE_KEY_PREFIX": "bench-load",
        "OPEN_DATA_ACCEL": "1",
        "OPEN_DATA_ROOT": str(VAR / "opendata"),
        "FRONT_PROXY_DIR": str(VAR / "nginx"),
        "PREWARM_URL": FRONT,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "crimemap.settings",
    }


class Stack:
    """Redis, gunicorn and nginx for the benchmark, started and stopped by it."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.redis: subprocess.Popen | None = None
        self.gunicorn: subprocess.Popen | None = None

    def start_redis(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        self.redis = start_redis(
            REDIS_PORT, VAR, "--maxmemory", "512mb", "--maxmemory-policy", "allkeys-lru"
        )

    def stop_redis(self) -> None:
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait()
            self.redis = None

    def start(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.gunicorn = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "crimemap.wsgi:application",
                "--config",
                "deploy/gunicorn.conf.py",
            ],
            cwd=ROOT,
            env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{APP_PORT}"},
        )
        self.nginx("render")
        subprocess.run(
            ["nginx", "-p", str(VAR / "nginx"), "-c", str(VAR / "nginx/nginx.conf")], check=True
        )
        wait_for(lambda: get(f"{APP}/healthz") == 200)
        from caching import pointer, proxy

        pointer.forget()
        proxy.announce(pointer.current(), settle=False)  # as the pre-warm job does at start

    def nginx(self, action: str) -> None:
        env = {
            **self.env,
            "NGINX_LISTEN": f"127.0.0.1:{NGINX_PORT}",
            "GUNICORN_ADDR": f"127.0.0.1:{APP_PORT}",
        }
        subprocess.run(
            [str(ROOT / "deploy/local/nginx.sh"), action, str(VAR / "nginx")], env=env, check=True
        )

    def worker_rss_mb(self) -> list[float]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.gunicorn.pid)], capture_output=True, text=True
        ).stdout.split()
        sizes = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def clear_caches(self) -> None:
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "flushall"], capture_output=True)
        shutil.rmtree(VAR / "nginx" / "cache", ignore_errors=True)
        (VAR / "nginx" / "cache").mkdir(parents=True)
        shutil.chown(VAR / "nginx" / "cache", "www-data") if os.getuid() == 0 else None
        subprocess.run(
            [
                "nginx",
                "-s",
                "reload",
                "-p",
                str(VAR / "nginx"),
                "-c",
                str(VAR / "nginx/nginx.conf"),
            ],
            check=True,
        )
        time.sleep(1)

    def stop(self) -> None:
        subprocess.run(
            ["nginx", "-s", "quit", "-p", str(VAR / "nginx"), "-c", str(VAR / "nginx/nginx.conf")],
            capture_output=True,
        )
        if self.gunicorn is not None:
            self.gunicorn.send_signal(signal.SIGTERM)
            self.gunicorn.wait()
        self.stop_redis()


def wait_for(ready, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the stack did not start")


def get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def url_mix(count: int = 2000, seed: int = 11) -> list[str]:
    """The issue's mix, as `count` paths in a shuffled order (hundreds of different wards)."""
    import django

    django.setup()
    from areas.models import Level, Postcode
    from areas.selectors import current_areas

    rng = random.Random(seed)
    areas = {
        level: [a.get_absolute_url() for a in current_areas().filter(level=level).order_by("code")]
        for level in (Level.BOROUGH, Level.WARD, Level.LSOA)
    }
    placed = Postcode.objects.exclude(ward_code="")
    postcodes = list(placed.values_list("postcode", flat=True)[:5000])
    static = sorted(
        "/static/" + str(p.relative_to(ROOT / "var/staticfiles"))
        for p in (ROOT / "var/staticfiles").glob("**/*.[0-9a-f]*.*")
        if p.suffix in {".css", ".js"} and "admin" not in p.parts
    )
    pick = {
        "london": lambda: "/",
        "boroughs": lambda: rng.choice(areas[Level.BOROUGH]),
        "wards": lambda: rng.choice(areas[Level.WARD][:400]),
        "lsoas": lambda: rng.choice(areas[Level.LSOA][:500]),
        "postcodes": lambda: "/search/?q=" + rng.choice(postcodes[:300]).replace(" ", "+"),
        "static": lambda: rng.choice(static),
    }
    paths = [pick[kind]() for kind, share in MIX.items() for _ in range(count * share // 100)]
    rng.shuffle(paths)
    return paths


def wrk(
    base: str,
    paths: list[str],
    *,
    seconds: int = 30,
    connections: int = 64,
    watch: int | None = None,
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
    env = {**os.environ, "WRK_PATHS": handle.name}
    if watch is not None:
        env["WRK_WATCH"] = str(watch)
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "tests/load/mix.lua"),
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(handle.name)
    line = next(x for x in result.stdout.splitlines() if x.startswith("JSON "))
    return json.loads(line[5:])


def warm(paths: list[str]) -> None:
    """Through nginx (its cache and Redis), then straight (pages name their host: own keys)."""
    for path in dict.fromkeys(paths):
        for base in (FRONT, APP):
            get(base + path, {"Accept-Encoding": "gzip, br"})
        get(FRONT + path, {"Accept-Encoding": "gzip"})


def twin_publication() -> tuple[int, int]:
    """A new publication with the current one's figures (a publish that changes every key)."""
    from crimestats.models import Publication

    current = Publication.objects.get(is_current=True)
    twin = Publication.objects.create(
        latest_month=current.latest_month,
        notes="bench-load twin",
        figure_count=current.figure_count,
    )
    twin.blocks.set(current.blocks.all())
    twin.releases.set(current.releases.all())
    return current.pk, twin.pk


def switch(pk: int) -> None:
    from crimestats.models import Publication
    from crimestats.services.publish import switch_to

    switch_to(publication=Publication.objects.get(pk=pk))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    # The bench database was loaded by an earlier `make bench`: bring its schema up to the code.
    run_manage("migrate", "--noinput", "-v", "0", env=dict(os.environ))
    paths = url_mix()
    static_file = next(p for p in paths if p.startswith("/static/css/"))
    stack = Stack(env)
    stack.start()
    results: dict[str, object] = {}
    try:
        s = args.seconds
        results["cold ward page"] = page_timings(host="127.0.0.1")
        results["static through nginx"] = wrk(FRONT, [static_file], seconds=s)
        results["trivial Django view (gunicorn)"] = wrk(APP, ["/healthz"], seconds=s)
        stack.clear_caches()
        results["cold"] = [wrk(FRONT, paths, seconds=5) for _ in range(6)]
        warm(paths)
        results["mix through nginx, warm"] = wrk(FRONT, paths, seconds=s)
        results["mix straight to gunicorn, warm"] = wrk(APP, paths, seconds=s)
        results["publish"] = publish_run(paths, s)
        results["redis"] = redis_run(stack, paths, s)
        results["worker RSS MB"] = stack.worker_rss_mb()
    finally:
        stack.stop()
    write_report(results, static_file)


def publish_run(paths: list[str], seconds: int) -> dict:
    """A publish a third of the way in: when did the last page of the old one come back?

    The pre-warm job watches, as under `make run`: it empties nginx's cache, then renders
    the new publication's pages (and writes its download files) while the run goes on.
    """
    import threading

    from caching import pointer, proxy

    old, new = twin_publication()
    switched: list[float] = []
    watcher = subprocess.Popen(
        [sys.executable, "manage.py", "prewarm", "--watch", "--from-next-switch"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
    )

    def later() -> None:
        time.sleep(seconds / 3)
        switch(new)
        switched.append(time.time())

    timer = threading.Thread(target=later)
    timer.start()
    result = wrk(FRONT, paths, seconds=seconds, watch=old)
    timer.join()
    watcher.terminate()
    watcher.wait()
    result["switched_at"] = switched[0]
    result["old_until_s"] = result["last_old"] - switched[0]
    switch(old)  # put the bench database back as it was, and nginx's cache with it
    pointer.forget()
    proxy.announce(pointer.current())
    return result


def redis_run(stack: Stack, paths: list[str], seconds: int) -> dict:
    """Redis stopped a third of the way in; started again after."""
    import threading

    def later() -> None:
        time.sleep(seconds / 3)
        stack.stop_redis()

    timer = threading.Thread(target=later)
    timer.start()
    result = wrk(FRONT, paths, seconds=seconds, watch=-1)
    timer.join()
    stack.start_redis()
    return result


def write_report(results: dict, static_file: str) -> None:
    now = datetime.now()
    static = results["static through nginx"]
    trivial = results["trivial Django view (gunicorn)"]
    front = results["mix through nginx, warm"]
    app = results["mix straight to gunicorn, warm"]

    def row(name: str, r: dict, reference: dict | None = None, target: str = "") -> str:
        ratio = f"{r['rps'] / reference['rps']:.0%}" if reference else ""
        return (
            f"| {name} | {r['rps']:,.0f} | {ratio} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['errors']} / {r['non2xx3xx']} | {target} |"
        )

    lines = [
        f"# Load benchmark {now:%Y-%m-%d %H:%M}",
        "",
        f"wrk, 2 threads, 64 connections, Accept-Encoding: gzip, br, loopback; {os.cpu_count()} "
        "cores shared by wrk, nginx, gunicorn, PostgreSQL and Redis (and anything else running). "
        f"Mix: {', '.join(f'{k} {v}%' for k, v in MIX.items())}; reference static file "
        f"`{static_file}`.",
        "",
        "| run | req/s | of reference | p50 ms | p99 ms | socket errors / non-2xx-3xx | target |",
        "|---|---|---|---|---|---|---|",
        row("static file through nginx (reference)", static),
        row("trivial Django view straight to gunicorn (reference)", trivial),
        row("mix through nginx, caches warm", front, static, "≥ 60% of static, p99 ≤ 20 ms"),
        row("mix straight to gunicorn, caches warm", app, trivial, "≥ 70% of trivial, p99 ≤ 100"),
        row("publish a third of the way in, through nginx", results["publish"], static, "0 errors"),
        row("Redis stopped a third of the way in", results["redis"], static, "0 5xx"),
        "",
        "Cold ward page straight to Django (in-process, Redis emptied before each, "
        f"{results['cold ward page']['wards_sampled']} random wards): median "
        f"{results['cold ward page']['cold_median_ms']:.1f} ms, 95th percentile "
        f"{results['cold ward page']['cold_p95_ms']:.1f} ms, at most "
        f"{results['cold ward page']['queries_max']} SQL queries (target: median ≤ 30 ms, "
        "≤ 6 queries).",
        "",
        "Cold start (Redis and nginx caches emptied), the same mix through nginx, in 5 s slices:",
        "",
        "| seconds | req/s | p99 ms | errors |",
        "|---|---|---|---|",
    ]
    for n, r in enumerate(results["cold"]):
        lines.append(
            f"| {n * 5}–{n * 5 + 5} | {r['rps']:,.0f} | {r['p99_ms']:.0f} | "
            f"{r['errors'] + r['non2xx3xx']} |"
        )
    reached = next(
        (n for n, r in enumerate(results["cold"]) if r["rps"] >= 0.9 * front["rps"]), None
    )
    when = f"the {reached * 5}–{reached * 5 + 5} s slice" if reached is not None else "no slice"
    lines += ["", f"Warm rate (90% of the warm run's) first reached in {when}."]
    publish = results["publish"]
    lines += [
        "",
        "Publish: the last response of the old publication came back "
        f"{publish['old_until_s']:.0f} s after the switch (the pre-warm job looks every 2 s, "
        "waits 3 s for every web process to read the new pointer, then empties nginx's cache; "
        "it then warmed the new publication during the run); "
        f"5xx: {publish['status5xx']}.",
        f"Redis stopped: 5xx {results['redis']['status5xx']}.",
        f"gunicorn worker RSS after the runs: "
        f"{', '.join(f'{m:.0f}' for m in results['worker RSS MB'])} MB.",
    ]
    text = "\n".join(lines) + "\n"
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"{now:%Y-%m-%d}-load.md").write_text(text)
    (REPORT_DIR / "load-latest.md").write_text(text)
    (VAR / "results.json").write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()
