"""`make bench-releases`: replay real monthly releases (issue 10), report in docs/benchmarks/.

Run as `python -m tests.load.bench_releases [--months N] [--boroughs E09000001,E09000017]
[--keep-database]`. In a database of its own (`crimemap_bench_releases` on the same cluster,
dropped and created here; never the dev database): load the shared data with the three MPS "most
recent 24 months" files cut at 2025-05, then publish 2025-06 … 2025-11 one month at a time, each
month's LSOA, ward and borough files together as ONE publication (`import_file LSOA WARD BOROUGH
--publish`). For each release: the publish's wall time and peak memory (the largest process, from
/usr/bin/time, and all its processes together: protection runs a process pool), the default
view's figures withheld although not small, and the audit of every publication so far.
"""

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "docs" / "benchmarks"
BENCH_DB = "crimemap_bench_releases"
CUT = "202505"  # the load stops here; every later month of the files is a release to replay
MPS_DIR = Path("crime") / "mps"
RECENT = (  # one month's release: published together, in this order
    "MPS LSOA Level Crime (most recent 24 months).csv",
    "MPS Ward Level Crime (most recent 24 months).csv",
    "MPS Borough Level Crime (most recent 24 months).csv",
)
# Targets (issue 10).
LOAD_SECONDS = 300
PUBLISH_SECONDS = 180
PUBLISH_MB = 800
WITHHELD_NOT_SMALL = {"ward": 0.01, "lsoa": 0.05}


# The data: a mirror of CRIMEMAP_DATA_DIR with the 24-month files cut ---------------------------


def month_columns(path: Path) -> list[str]:
    """The YYYYMM header names of an MPS file, in order (they are its last columns)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    months = [name for name in header if len(name) == 6 and name.isdigit()]
    if header[len(header) - len(months) :] != months:
        raise ValueError(f"{path.name}: the month columns are not the last columns")
    return months


def cut_csv(source: Path, target: Path, *, last: str) -> None:
    """Copy an MPS file without its month columns after `last` (YYYYMM), byte for byte otherwise:
    the same header names, quoting, encoding and line endings (the ward file has CRLF)."""
    months = month_columns(source)
    drop = len(months) - 1 - months.index(last)
    lines = source.read_bytes().splitlines(keepends=True)
    out = []
    for number, line in enumerate(lines, start=1):
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        if drop and body:
            body, *cut = body.rsplit(b",", drop)
            if number > 1 and not all(cell.isdigit() for cell in cut):
                raise ValueError(f"{source.name}, line {number}: a month cell is not a count")
        out.append(body + ending)
    target.write_bytes(b"".join(out))


def mirror(source: Path, target: Path, *, replaced: set[Path]) -> None:
    """Symlinks to everything in `source`, except folders holding a path in `replaced` (relative),
    which are made for real (with symlinks inside) so that those files can be written there."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        inside = {p.relative_to(entry.name) for p in replaced if p.parts[0] == entry.name}
        if not inside:
            (target / entry.name).symlink_to(entry)
        elif entry.is_dir() and Path(".") not in inside:
            mirror(entry, target / entry.name, replaced=inside)


def cut_data_dir(source: Path, target: Path, *, last: str) -> None:
    """The data directory as it was when `last` was the latest month of the 24-month files."""
    mirror(source, target, replaced={MPS_DIR / name for name in RECENT})
    for name in RECENT:
        cut_csv(source / MPS_DIR / name, target / MPS_DIR / name, last=last)


def release_files(source: Path, folder: Path, *, month: str) -> list[Path]:
    """The three 24-month files as the Met published them when `month` was the latest."""
    folder.mkdir(parents=True)
    for name in RECENT:
        cut_csv(source / MPS_DIR / name, folder / name, last=month)
    return [folder / name for name in RECENT]


# Measuring a command: wall time, the largest process's peak RSS, all processes' peak PSS -------


@dataclass
class Run:
    seconds: float
    peak_mb: float  # the largest single process (GNU time: the command or one of its children)
    tree_mb: float  # all its processes together, sampled every 0.5 s (proportional set size)
    returncode: int
    stdout: str
    stderr: str


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            found[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line[:4] == "Pss:"), 0)


def tree_kb(root: int) -> int:
    children, todo, total = _children(), [root], 0
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo += children.get(pid, [])
    return total


def measured(args: list[str], *, env: dict[str, str]) -> Run:
    """Run a command under /usr/bin/time -v, sampling the memory of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["/usr/bin/time", "-v", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    largest = next(
        (int(line.split()[-1]) for line in stderr.splitlines() if "Maximum resident" in line), 0
    )
    return Run(
        seconds=time.monotonic() - started,
        peak_mb=largest / 1024,
        tree_mb=peak[0] / 1024,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
    )


# The database --------------------------------------------------------------------------------


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgis://crimemap@127.0.0.1:55432/crimemap")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres"))


def recreate_database(url: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


# What each release shows, measured in the bench database --------------------------------------


@dataclass
class Audit:
    checked: int = 0
    failures: list = field(default_factory=list)
    pinned: int = 0
    bound_before: int = 0  # failing already before first published, and narrowed no further
    seconds: float = 0.0
    missing: str = ""


def union_audit(boroughs: list[str] | None) -> Audit:
    """The audit of every publication public so far (if this version of the code has it)."""
    try:
        from crimestats.services.union_audit import audit_all_publications
    except ImportError as error:
        return Audit(missing=f"audit_all_publications is not available: {error}")
    outcome = audit_all_publications(boroughs=boroughs, log=lambda _: None)
    return Audit(
        checked=outcome.checked,
        failures=list(outcome.failures),
        pinned=outcome.pinned,
        bound_before=getattr(outcome, "bound_before", 0),
        seconds=outcome.seconds,
    )


@dataclass
class Release:
    month: str
    run: Run
    publication: int | None = None
    message: str = ""
    write_s: float | None = None
    build_s: float | None = None
    shares: list = field(default_factory=list)  # disclosure_report.DefaultViewShare
    audit: Audit | None = None


def publish_month(source: Path, work: Path, month: str, *, env: dict[str, str]) -> Release:
    """Publish one month's three files together with import_file, measured in its own process."""
    from crimestats.models import AuditLog, Publication, Upload
    from crimestats.services.disclosure_report import default_view_shares

    paths = release_files(source, work / month, month=month)
    run = measured(
        [sys.executable, "manage.py", "import_file", *map(str, paths), "--publish"], env=env
    )
    release = Release(month=month, run=run)
    upload = Upload.objects.order_by("-pk").first()
    release.message = upload.message if upload else run.stderr[-2000:]
    if run.returncode or upload is None or upload.status != Upload.Status.PUBLISHED:
        release.message = f"{release.message}\n{run.stderr[-3000:]}".strip()
        return release
    counts = AuditLog.objects.filter(upload=upload, action="publish").values_list(
        "counts", flat=True
    )
    counts = counts.first() or {}
    release.write_s, release.build_s = counts.get("write_seconds"), counts.get("build_seconds")
    publication = Publication.objects.get(is_current=True)
    release.publication = publication.pk
    release.shares = default_view_shares(publication)
    return release


# The report ----------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def report_lines(
    *, load: Run, baseline: list, releases: list[Release], boroughs: list[str] | None, months: int
) -> list[str]:
    now = datetime.now()
    where = f"boroughs {', '.join(boroughs)}" if boroughs else "all of London"
    lines = [
        f"# Replay of monthly releases {now:%Y-%m-%d %H:%M}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}. `make bench-releases` "
        f"(`python -m tests.load.bench_releases`), in its own database `{BENCH_DB}`.",
        "",
        f'The shared data loaded with the three MPS "most recent 24 months" files cut at '
        f"{CUT[:4]}-{CUT[4:]}; then {months} month(s) published one at a time, each month's LSOA, "
        "ward and borough files together as ONE publication (`import_file LSOA WARD BOROUGH "
        "--publish`, in its own process: time and memory are the publish's, check included). "
        "Memory: the largest process (GNU time's maximum RSS) and all the command's processes "
        "together (protection runs a process pool; proportional set size, sampled every 0.5 s). "
        f"Audit: `audit_all_publications` over every publication public so far, {where}.",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| `load_london` (cut at {CUT[:4]}-{CUT[4:]}) from an empty database "
        f"| {load.seconds:.1f} s | ≤ {LOAD_SECONDS} s | {_met(load.seconds <= LOAD_SECONDS)} |",
        f"| `load_london` peak memory (largest process / all processes) "
        f"| {load.peak_mb:.0f} MB / {load.tree_mb:.0f} MB | | |",
        "",
        "## Each release",
        "",
        "| month | publication | publish (write + build) | peak memory (largest / all) "
        "| audit: checked, failing, pinned, time | targets met |",
        "|---|---|---|---|---|---|",
    ]
    for r in releases:
        audit = r.audit
        if audit is None:
            audited = "not run"
        elif audit.missing:
            audited = audit.missing
        else:
            audited = (
                f"{audit.checked:,} checked, {len(audit.failures)} failing "
                f"({audit.bound_before} already so before first published), {audit.pinned} "
                f"pinned, {audit.seconds:.1f} s"
            )
        split = f" ({r.write_s:.1f} + {r.build_s:.1f} s)" if r.build_s is not None else ""
        ok = (
            r.publication is not None
            and r.run.seconds <= PUBLISH_SECONDS
            and max(r.run.peak_mb, r.run.tree_mb) <= PUBLISH_MB
            and audit is not None
            and not audit.missing
            and not audit.failures
            and not audit.pinned
        )
        lines.append(
            f"| {r.month[:4]}-{r.month[4:]} | {r.publication or 'failed'} | {r.run.seconds:.1f} s"
            f"{split} | {r.run.peak_mb:.0f} MB / {r.run.tree_mb:.0f} MB | {audited} "
            f"| {_met(ok)} |"
        )
    lines += [
        "",
        f"Targets: publish ≤ {PUBLISH_SECONDS} s and ≤ {PUBLISH_MB} MB (both memory figures); "
        'audit 0 failing, 0 pinned. A failure "already so before first published" is a '
        "hidden figure that what was public before it existed already bounds (e.g. at least 2) "
        "and that no later publication narrowed: withheld without the label, never pinned.",
        "",
        "## Default view: withheld although not small",
        "",
        "Rolling 12 months to the publication's latest month, per level and category "
        "(`disclosure_report.default_view_shares`, against the raw counts): figures small "
        '("fewer than 5"), figures withheld ("not shown") although 0 or at least the '
        "threshold, and the share of crimes in hidden figures.",
        "",
        "| after | level | category | figures | small | withheld, not small | target | met "
        "| crimes hidden |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [(f"load ({CUT[:4]}-{CUT[4:]})", baseline)] + [
        (f"{r.month[:4]}-{r.month[4:]}", r.shares) for r in releases
    ]
    for label, shares in rows:
        for s in shares:
            target = WITHHELD_NOT_SMALL.get(s.level)
            share = s.withheld_not_small_share
            lines.append(
                f"| {label} | {s.level} | {s.category} | {s.figures:,} | {s.small:,} "
                f"| {share:.2%} ({s.withheld_not_small:,}) "
                f"| {'' if target is None else f'≤ {target:.0%}'} "
                f"| {'' if target is None else _met(share <= target)} "
                f"| {s.crimes_hidden_share:.1%} |"
            )
    failures = [(r.month, f) for r in releases if r.audit for f in r.audit.failures]
    if failures:
        lines += ["", "## Audit failures (first 30)", ""]
        lines += [f"- after {month[:4]}-{month[4:]}: {f}" for month, f in failures[:30]]
    broken = [r for r in releases if r.publication is None]
    if broken:
        lines += ["", "## Failed publishes", ""]
        for r in broken:
            lines += [f"{r.month}:", "", "```", r.message, "```"]
    summary = load.stdout.split("Summary", 1)[-1].strip("\n")
    lines += ["", "## load_london summary", "", "```", summary, "```"]
    return lines


def write_report(lines: list[str]) -> Path:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    dated = REPORT_DIR / f"{datetime.now():%Y-%m-%d}-releases.md"
    dated.write_text(text)
    (REPORT_DIR / "releases-latest.md").write_text(text)
    print(text)
    print(f"Report written to {dated.relative_to(ROOT)} and releases-latest.md")
    return dated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=None, help="replay only the first N")
    parser.add_argument(
        "--boroughs", default="", help="audit only these boroughs, e.g. E09000001,E09000017"
    )
    parser.add_argument("--keep-database", action="store_true", help=f"do not drop {BENCH_DB}")
    args = parser.parse_args(argv)
    boroughs = [code.strip() for code in args.boroughs.split(",") if code.strip()] or None
    source = Path(
        os.environ.get("CRIMEMAP_DATA_DIR", ROOT.parent / "shared" / "data" / "london")
    ).resolve()
    months = [m for m in month_columns(source / MPS_DIR / RECENT[0]) if m > CUT][: args.months]
    url = database_url()
    work = Path(tempfile.mkdtemp(prefix="bench-releases-"))
    data = work / "data"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CRIMEMAP_DATA_DIR": str(data),
        "CACHE_KEY_PREFIX": "bench-releases",
        "DJANGO_SETTINGS_MODULE": "crimemap.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    try:
        cut_data_dir(source, data, last=CUT)
        recreate_database(url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(f"load_london with the 24-month files cut at {CUT} …", flush=True)
        load = measured(
            [sys.executable, "manage.py", "load_london", "--no-progress", "--data-dir", str(data)],
            env=env,
        )
        if load.returncode:
            raise RuntimeError(f"load_london failed:\n{load.stdout[-3000:]}\n{load.stderr[-3000:]}")
        print(f"  {load.seconds:.1f} s", flush=True)
        import django

        django.setup()
        from crimestats.models import Publication
        from crimestats.services.disclosure_report import default_view_shares

        baseline = default_view_shares(Publication.objects.get(is_current=True))
        releases: list[Release] = []
        for month in months:
            print(f"publishing {month} …", flush=True)
            release = publish_month(source, work / "releases", month, env=env)
            releases.append(release)
            print(f"  {release.run.seconds:.1f} s: {release.message.splitlines()[0]}", flush=True)
            if release.publication is None:
                break  # a failed publish leaves the site as it was: later months would not apply
            release.audit = union_audit(boroughs)
            print(f"  audit: {json.dumps(_audit_line(release.audit))}", flush=True)
        write_report(
            report_lines(
                load=load,
                baseline=baseline,
                releases=releases,
                boroughs=boroughs,
                months=len(releases),
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep_database:
            drop_database(url)


def _audit_line(audit: Audit) -> dict:
    return {
        "checked": audit.checked,
        "failing": len(audit.failures),
        "pinned": audit.pinned,
        "bound_before": audit.bound_before,
        "seconds": round(audit.seconds, 1),
        "missing": audit.missing,
    }


if __name__ == "__main__":
    main()
