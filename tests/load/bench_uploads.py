"""Benchmark of the admin upload (issue 6): check + publish the MPS LSOA file and a police.uk
month, then roll back each, in one worker process whose peak memory is measured.

Run by `make bench` (tests/load/bench.py calls `upload_timings`), or alone as
`python -m tests.load.bench_uploads` against the bench database. The site's data is put back
(rolled back) afterwards; the releases it wrote stay, as after any real rollback.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in `manage.py shell`: prints one JSON line of timings.
STEP = r"""
import json, random, resource, tempfile, time, uuid
from pathlib import Path
from django.conf import settings
from crimestats.models import Publication, ReleaseState
from crimestats.services import uploads
from crimestats.services.releases import ensure_baseline, rollback_to

data = Path(settings.CRIMEMAP_DATA_DIR) / "crime"
folder = Path(tempfile.mkdtemp())
settings.MEDIA_ROOT = folder / "media"

def lsoa_copy():
    lines = (data / "mps" / "MPS LSOA Level Crime (most recent 24 months).csv").read_text(
        encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[-1] = str(int(cells[-1]) + random.randrange(1, 1000))  # a new checksum each run
    lines[1] = ",".join(cells)
    path = folder / "MPS LSOA Level Crime (most recent 24 months).csv"
    path.write_text("\n".join(lines) + "\n")
    return path

def lsoa_next_month():
    # The LSOA file a month later: its first month dropped, a new one (a copy of the last).
    lines = (data / "mps" / "MPS LSOA Level Crime (most recent 24 months).csv").read_text(
        encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    months = [i for i, name in enumerate(header) if name.isdigit()]
    first, last = months[0], months[-1]
    year, number = int(header[last][:4]), int(header[last][4:])
    following = f"{year + number // 12}{number % 12 + 1:02d}"
    moved = []
    for n, line in enumerate(lines):
        cells = line.split(",")
        bump = random.randrange(1, 1000) if n == 1 else 0  # a new checksum each run
        new = following if n == 0 else str(int(cells[last]) + bump)
        moved.append(",".join(cells[:first] + cells[first + 1:] + [new]))
    path = folder / "next" / "MPS LSOA Level Crime (most recent 24 months).csv"
    path.parent.mkdir()
    path.write_text("\n".join(moved) + "\n")
    return path

def city_next_month():
    files = sorted((data / "police-uk" / "city-of-london").glob("*-city-of-london-street.csv"))
    lines = files[-1].read_text(encoding="utf-8-sig").splitlines()
    month = files[-1].name[:7]
    year, number = int(month[:4]), int(month[5:])
    following = f"{year + number // 12}-{number % 12 + 1:02d}"
    moved = [lines[0]] + [l.replace(f",{month},", f",{following},", 1) for l in lines[1:]]
    first = moved[1].split(",")
    first[0] = uuid.uuid4().hex  # the Crime ID column: a new checksum each run
    moved[1] = ",".join(first)
    path = folder / f"{following}-city-of-london-street.csv"
    path.write_text("\n".join(moved) + "\n")
    return path

def cycle(path):
    ensure_baseline()
    before = ReleaseState.objects.first()
    started = time.perf_counter()
    (upload,) = uploads.receive_upload(path=path, file_name=path.name)
    uploads.validate_upload(upload)
    checked = time.perf_counter()
    checked_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert upload.status == "valid", upload.message
    if uploads.needs_acknowledgement(upload):
        uploads.acknowledge(upload, user=None)
    uploads.request_publish(upload, user=None)
    uploads.publish_upload(upload, log=lambda _: None)
    published = time.perf_counter()
    assert upload.status == "published", upload.message
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rollback_to(state=before, log=lambda _: None)
    rolled = time.perf_counter()
    counts = upload.audit.get(action="publish").counts
    return {
        "rows": upload.rows,
        "peak_mb_after_check": checked_peak,
        "peak_mb_after_publish": peak,
        "write_s": counts["write_seconds"],
        "build_s": counts["build_seconds"],
        "validate_s": checked - started,
        "publish_s": published - checked,
        "rollback_s": rolled - published,
    }

timings = {"lsoa": cycle(lsoa_copy()), "police_uk": cycle(city_next_month())}
timings["lsoa_next_month"] = cycle(lsoa_next_month())  # last: it needs the most memory
print(json.dumps(timings))
"""


def upload_timings(env: dict[str, str] | None = None) -> dict[str, object]:
    env = env or dict(os.environ)
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "manage.py", "shell", "-c", STEP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"upload benchmark failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    line = [text for text in result.stdout.splitlines() if text.startswith("{")][-1]
    timings = json.loads(line)
    timings["peak_mb"] = next(
        int(text.split()[-1]) / 1024
        for text in result.stderr.splitlines()
        if "Maximum resident" in text
    )
    return timings


def report_lines(t: dict) -> list[str]:
    lsoa, police, following = t["lsoa"], t["police_uk"], t["lsoa_next_month"]
    return [
        "",
        "## Admin upload (issue 6)",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| MPS LSOA file ({lsoa['rows']:,} rows): check every row + preview "
        f"| {lsoa['validate_s']:.1f} s | |",
        f"| MPS LSOA file: publish (write release + rebuild publication) "
        f"| {lsoa['publish_s']:.1f} s (write {lsoa['write_s']:.1f} s, build "
        f"{lsoa['build_s']:.1f} s) | |",
        f"| MPS LSOA file: check + publish | {lsoa['validate_s'] + lsoa['publish_s']:.1f} s "
        "| ≤ 20 s |",
        f"| police.uk month ({police['rows']:,} records): check + publish "
        f"| {police['validate_s'] + police['publish_s']:.1f} s "
        f"(check {police['validate_s']:.1f} s) | ≤ 3 s |",
        f"| rollback (switch back to the earlier publication) "
        f"| {max(lsoa['rollback_s'], police['rollback_s']):.1f} s | ≤ 5 s |",
        f"| worker peak memory (the two above) | {police['peak_mb_after_publish']:.0f} MB "
        "| ≤ 500 MB |",
        f"| worker peak memory after checking the LSOA file | "
        f"{lsoa['peak_mb_after_check']:.0f} MB | |",
        f"| MPS LSOA file a month later (every LSOA series changes): check + publish "
        f"| {following['validate_s'] + following['publish_s']:.1f} s (build "
        f"{following['build_s']:.1f} s) | |",
        f"| worker peak memory with that month too | {t['peak_mb']:.0f} MB | |",
    ]


def append_report(t: dict) -> None:
    """Add the upload section to the report `tests/load/bench.py` has just written."""
    folder = ROOT / "docs" / "benchmarks"
    text = "\n".join(report_lines(t)) + "\n"
    dated = [p for p in folder.glob("*.md") if p.name != "latest.md"]
    reports = [
        folder / "latest.md",
        *([max(dated, key=lambda p: p.stat().st_mtime)] if dated else []),
    ]
    for report in reports:
        if report.exists():
            with report.open("a") as handle:
                handle.write(text)
    print(text)


if __name__ == "__main__":
    from tests.load.bench import bench_database_url

    environment = {**os.environ, "DATABASE_URL": bench_database_url()}
    print("\n".join(report_lines(upload_timings(environment))))
