"""`manage.py import_file PATH [--kind ...] [--publish] [--dry-run]`: the admin upload, in a shell.

Checks every row and prints the errors or the preview; `--publish` then publishes it (one
transaction, like the admin); `--dry-run` only checks and records nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from areas.importers.errors import UploadError
from crimestats.importers.common import UploadErrors
from crimestats.models import Upload
from crimestats.services.releases import StateError
from crimestats.services.uploads import (
    ERRORS_SHOWN,
    KINDS,
    acknowledge,
    check_file,
    publish_upload,
    receive_upload,
    request_publish,
    validate_upload,
)


class Command(BaseCommand):
    help = "Check a data file and (with --publish) publish it, as the admin upload does."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--kind", choices=[k for k, _ in KINDS], default=Upload.Kind.AUTO)
        parser.add_argument("--publish", action="store_true", help="publish if it is valid")
        parser.add_argument("--dry-run", action="store_true", help="check only; record nothing")

    def handle(self, *args, path: Path, kind: str, publish: bool, dry_run: bool, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if dry_run:
            self._dry_run(path, kind)
            return
        for upload in receive_upload(path=path, file_name=path.name, kind=kind):
            if upload.status == Upload.Status.QUEUED:
                validate_upload(upload)
            self._report(upload)
            if upload.status != Upload.Status.VALID:
                raise CommandError(f"{upload.file_name}: rejected, nothing written")
            if publish:
                try:
                    if upload.warnings or upload.new_categories:
                        acknowledge(upload, user=None)
                    request_publish(upload, user=None)
                except StateError as error:
                    raise CommandError(str(error)) from None
                publish_upload(upload, log=self.stdout.write)
                self.stdout.write(upload.message)
                if upload.status != Upload.Status.PUBLISHED:
                    raise CommandError(f"{upload.file_name}: {upload.message}")

    def _dry_run(self, path: Path, kind: str) -> None:
        try:
            checked = check_file(path=path, kind=kind)
        except UploadErrors as errors:
            for error in errors.errors[:ERRORS_SHOWN]:
                self.stderr.write(str(error))
            raise CommandError(f"{errors.error_count:,} error(s): nothing written") from None
        except UploadError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{path.name}: {checked.rows:,} rows, no errors")
        for warning in checked.warnings:
            self.stdout.write(f"  warning: {warning}")
        preview = checked.preview
        if "months" in preview:
            self.stdout.write(
                f"  months added: {', '.join(preview['months_added']) or 'none'}; restated: "
                f"{', '.join(preview['months_restated']) or 'none'}; "
                f"areas affected: {preview['areas_affected']:,}"
            )

    def _report(self, upload: Upload) -> None:
        self.stdout.write(f"{upload.file_name}: {upload.message}")
        for error in upload.errors:
            where = ", ".join(
                str(x) for x in (error["row"], error["column"], error["value"]) if x is not None
            )
            self.stderr.write(f"  {where}: {error['reason']}")
        for warning in upload.warnings:
            self.stdout.write(f"  warning: {warning}")
