"""`manage.py import_file PATH [PATH...] [--kind ...] [--publish] [--dry-run]`: the admin upload,
in a shell.

Checks every row and prints the errors or the preview; `--publish` then publishes it (one
transaction, like the admin); `--dry-run` only checks and records nothing. Files given together
are grouped as in the admin: a month's MPS files (LSOA, ward, borough) and police.uk months are
one upload, checked together and published as one publication; so are census files (the Nomis
TS007A and TS054 files).
"""

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from areas.importers.errors import UploadError
from areas.services.boundary_uploads import shapefile_as_zip
from crimestats.importers.common import UploadErrors
from crimestats.models import Upload
from crimestats.services.releases import StateError
from crimestats.services.uploads import (
    ERRORS_SHOWN,
    KINDS,
    Checked,
    Group,
    acknowledge,
    check_census,
    check_crime_files,
    check_file,
    group_files,
    publish_upload,
    receive_files,
    request_publish,
    validate_upload,
)


class Command(BaseCommand):
    help = "Check data files and (with --publish) publish them, as the admin upload does."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--kind", choices=[k for k, _ in KINDS], default=Upload.Kind.AUTO)
        parser.add_argument("--publish", action="store_true", help="publish if it is valid")
        parser.add_argument(
            "--note", default="", help="the revision note the releases page shows (with --publish)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only; record nothing")

    def handle(self, *args, paths: list[Path], kind: str, publish: bool, dry_run: bool, **options):
        self.note = options["note"]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        # A shapefile is several files: it goes zipped, as in the admin (removed when done).
        with tempfile.TemporaryDirectory(prefix="import-") as work:
            zipped = [
                shapefile_as_zip(p, folder=Path(work)) if p.suffix.lower() == ".shp" else p
                for p in paths
            ]
            self._import([(path, path.name) for path in zipped], kind, publish, dry_run)

    def _import(self, files: list[tuple[Path, str]], kind: str, publish: bool, dry_run: bool):
        """Check, store and perhaps publish the files while their temporary folder exists."""
        if dry_run:
            for group in group_files(files, kind=kind):
                self._dry_run(group.name, lambda g=group: _check_group(g))
            return
        for upload in receive_files(files=files, kind=kind):
            if upload.status == Upload.Status.QUEUED:
                validate_upload(upload)
            self._report(upload)
            if upload.status != Upload.Status.VALID:
                raise CommandError(f"{upload.file_name}: rejected, nothing written")
            if publish:
                try:
                    if upload.warnings or upload.new_categories:
                        acknowledge(upload, user=None)
                    request_publish(upload, user=None, note=self.note or None)
                except StateError as error:
                    raise CommandError(str(error)) from None
                publish_upload(upload, log=self.stdout.write)
                self.stdout.write(upload.message)
                if upload.status != Upload.Status.PUBLISHED:
                    raise CommandError(f"{upload.file_name}: {upload.message}")

    def _dry_run(self, name: str, check) -> None:
        try:
            checked: Checked = check()
        except UploadErrors as errors:
            for error in errors.errors[:ERRORS_SHOWN]:
                self.stderr.write(str(error))
            raise CommandError(f"{errors.error_count:,} error(s): nothing written") from None
        except UploadError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{name}: {checked.rows:,} rows, no errors")
        for warning in checked.warnings:
            self.stdout.write(f"  warning: {warning}")
        self._preview(checked.preview)

    def _preview(self, preview: dict) -> None:
        for one in preview.get("files", []) if preview.get("bundle") else []:
            self.stdout.write(f"  {one['file']}: {one['detected']}, {one['rows']:,} rows")
            self._preview(one)
        if preview.get("boundaries"):
            n = preview["counts"]
            self.stdout.write(
                f"  {preview['features']:,} {preview['word']}s: {n['added']} added, "
                f"{n['removed']} removed, {n['renamed']} renamed, {n['changed']} outlines changed"
            )
        if "months" in preview:
            self.stdout.write(
                f"  months added: {', '.join(preview['months_added']) or 'none'}; restated: "
                f"{', '.join(preview['months_restated']) or 'none'}; "
                f"areas affected: {preview['areas_affected']:,}"
            )
        for row in preview.get("measures", []) if preview.get("census") else []:
            before = "none" if row["before"] is None else f"{row['before']:,}"
            how = "kept" if row["kept"] else f"{row['lsoas_changed']:,} LSOAs change"
            self.stdout.write(f"  London {row['measure']}: {before} → {row['after']:,} ({how})")

    def _report(self, upload: Upload) -> None:
        self.stdout.write(f"{upload.file_name}: {upload.message}")
        for error in upload.errors:
            where = ", ".join(
                str(x) for x in (error["row"], error["column"], error["value"]) if x is not None
            )
            self.stderr.write(f"  {where}: {error['reason']}")
        for warning in upload.warnings:
            self.stdout.write(f"  warning: {warning}")
        if upload.status == Upload.Status.VALID:
            self._preview(upload.preview)


def _check_group(group: Group) -> Checked:
    paths = [path for path, _ in group.files]
    if not group.bundled:
        return check_file(path=paths[0], kind=group.kind)
    if group.kind == Upload.Kind.CENSUS:
        return check_census(paths=paths)
    return check_crime_files(paths=paths, kind=group.kind)
