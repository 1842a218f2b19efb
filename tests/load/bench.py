"""`make bench`: measure what the issues set targets for, and write a report to docs/benchmarks/.

Run as `python -m tests.load.bench [--skip-load]`. It loads the London data into a fresh,
separate database (so the timing starts from empty), then times cold page renders there.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "docs" / "benchmarks"
BENCH_DB = "crimemap_bench"


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgis://crimemap@127.0.0.1:55432/crimemap")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def fresh_load(env: dict[str, str]) -> dict[str, object]:
    """Drop and recreate the bench database, migrate, then time load_london from empty."""
    import psycopg

    admin = urlsplit(env["DATABASE_URL"])._replace(scheme="postgresql", path="/postgres")
    with psycopg.connect(urlunsplit(admin), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    run_manage("migrate", "--noinput", "-v", "0", env=env)
    started = time.monotonic()
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "manage.py", "load_london", "--no-progress"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    peak_kb = next(
        (
            int(line.split()[-1])
            for line in result.stderr.splitlines()
            if "Maximum resident" in line
        ),
        0,
    )
    again = time.monotonic()
    second = run_manage("load_london", "--no-progress", env=env)
    return {
        "load_seconds": seconds,
        "load_peak_mb": peak_kb / 1024,
        "load_summary": result.stdout.strip(),
        "second_run_seconds": time.monotonic() - again,
        "second_run_summary": second.stdout.strip(),
    }


def page_timings(sample: int = 60, host: str = "testserver") -> dict[str, object]:
    """Median cold render time and SQL queries of ward pages (cache cleared before each)."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from areas.models import Area, Level

    wards = list(
        Area.objects.filter(level=Level.WARD, boundary_set__is_current=True).order_by("?")[:sample]
    )
    client = Client(HTTP_HOST=host)
    times, queries = [], []
    for ward in wards:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(ward.get_absolute_url())
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (ward.code, response.status_code)
        queries.append(len(captured.captured_queries))
    sizes = [len(client.get(w.get_absolute_url()).content) for w in wards[:10]]
    return {
        "wards_sampled": len(wards),
        "cold_median_ms": statistics.median(times),
        "cold_p95_ms": sorted(times)[int(len(times) * 0.95) - 1],
        "queries_max": max(queries),
        "queries_median": statistics.median(queries),
        "html_kb_max": max(sizes) / 1024,
    }


def postcode_timings(sample: int = 200) -> dict[str, object]:
    """Median time of a postcode search that redirects to its area (issue 5: <= 20 ms)."""
    import django

    django.setup()
    from django.test import Client

    from areas.models import Postcode

    postcodes = list(Postcode.objects.order_by("?").values_list("postcode", flat=True)[:sample])
    client, times = Client(), []
    for postcode in postcodes:
        started = time.perf_counter()
        response = client.get("/search/", {"q": postcode.lower().replace(" ", "")})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (302, 200), (postcode, response.status_code)
    return {"postcodes_sampled": len(times), "postcode_median_ms": statistics.median(times)}


def disclosure_section() -> list[str]:
    """Audit every public publication on all of London (issue 10: 0 failing, 0 pinned) and
    tabulate what disclosure control hides, in all and in the default view."""
    import django

    django.setup()
    from crimestats.selectors import current_publication
    from crimestats.services.disclosure_report import default_view_shares
    from crimestats.services.union_audit import audit_all_publications

    publication = current_publication()
    outcome = audit_all_publications(log=lambda _: None)
    lines = [
        "",
        "## Disclosure control",
        "",
        f"`audit_disclosure` (every public publication, all of London): {outcome.checked:,} "
        f"hidden small figures checked, {len(outcome.failures)} failing, {outcome.pinned} "
        f"pinned, {outcome.lps:,} linear programs, {outcome.seconds:.1f} s (target: 0 failing, "
        "0 pinned).",
        "",
        "| level | category | cells hidden (small + secondary) | crimes hidden |",
        "|---|---|---|---|",
    ]
    for level, categories in sorted(publication.disclosure_summary.items()):
        if level == "parts":
            continue
        for category, t in sorted(categories.items()):
            cells = (t["small_cells"] + t["secondary_cells"]) / max(t["cells"], 1)
            crimes = (t["small_crimes"] + t["secondary_crimes"]) / max(t["crimes"], 1)
            lines.append(
                f"| {level} | {category} | {cells:.1%} ({t['small_cells']:,} + "
                f"{t['secondary_cells']:,} of {t['cells']:,}) | {crimes:.1%} |"
            )
    lines += [
        "",
        f"Default view (rolling 12 months to {publication.latest_month:%B %Y}): targets "
        "withheld although not small ≤ 1% of wards, ≤ 5% of LSOAs.",
        "",
        "| level | category | figures | small | withheld although not small | crimes hidden |",
        "|---|---|---|---|---|---|",
    ]
    for row in default_view_shares(publication):
        lines.append(
            f"| {row.level} | {row.category} | {row.figures:,} | {row.small:,} | "
            f"{row.withheld_not_small:,} ({row.withheld_not_small_share:.2%}) | "
            f"{row.crimes_hidden_share:.1%} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-load", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": bench_database_url(), "CACHE_KEY_PREFIX": "bench"}
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crimemap.settings")
    sys.path.insert(0, str(ROOT))
    load = {} if args.skip_load else fresh_load(env)
    pages = page_timings()
    pages |= postcode_timings()
    write_report(load, pages, disclosure_section())
    from tests.load.bench_uploads import append_report, upload_timings  # issue 6

    append_report(upload_timings(env))


def write_report(
    load: dict[str, object], pages: dict[str, object], sections: list[str] = ()
) -> None:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    lines = [
        f"# Benchmark {now:%Y-%m-%d %H:%M}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
    ]
    if load:
        lines += [
            f"| `load_london` from an empty database | {load['load_seconds']:.1f} s | ≤ 300 s |",
            f"| `load_london` peak memory | {load['load_peak_mb']:.0f} MB | |",
            f"| second `load_london` (no change) | {load['second_run_seconds']:.1f} s | |",
        ]
    lines += [
        f"| cold ward page, median of {pages['wards_sampled']} | {pages['cold_median_ms']:.1f} ms"
        " | ≤ 100 ms |",
        f"| cold ward page, 95th percentile | {pages['cold_p95_ms']:.1f} ms | |",
        f"| SQL queries per cold ward page (max) | {pages['queries_max']} | ≤ 10 |",
        f"| ward page HTML (largest of 10) | {pages['html_kb_max']:.1f} KB | ≤ 120 KB |",
        f"| postcode search → area, median of {pages['postcodes_sampled']} "
        f"| {pages['postcode_median_ms']:.1f} ms | ≤ 20 ms |",
    ]
    lines += list(sections)
    if load:
        lines += ["", "## load_london output", "", "```", str(load["load_summary"]), "```"]
    text = "\n".join(lines) + "\n"
    path = REPORT_DIR / f"{now:%Y-%m-%d}-foundation.md"
    path.write_text(text)
    (REPORT_DIR / "latest.md").write_text(text)
    print(text)
    print(f"Report written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
