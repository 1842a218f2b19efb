"""Load the real London data (boundaries, counts, denominators) and publish it."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from areas.importers.errors import UploadError
from areas.models import Area
from areas.services.london import load_london_areas
from crimestats.services.counts import refresh_statistics
from crimestats.services.london import load_london_crime
from crimestats.services.publish import build_publication, publication_is_stale


class DryRunRollback(Exception):
    """Raised to undo a --dry-run after everything has been validated."""


class Command(BaseCommand):
    help = "Load boundaries, crime counts and census denominators from CRIMEMAP_DATA_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=settings.CRIMEMAP_DATA_DIR)
        parser.add_argument("--dry-run", action="store_true", help="validate, then roll back")
        parser.add_argument("--if-empty", action="store_true", help="only if no areas are loaded")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, data_dir: Path, dry_run: bool, if_empty: bool, **options):
        if if_empty and Area.objects.exists():
            self.stdout.write("Data already loaded; nothing to do.")
            return
        if not data_dir.is_dir():
            raise CommandError(f"Data directory not found: {data_dir} (set CRIMEMAP_DATA_DIR)")
        started, progress, log = time.monotonic(), not options["no_progress"], self.stdout.write
        summary: dict[str, object] = {}
        try:
            with transaction.atomic():
                summary |= load_london_areas(data_dir=data_dir, log=log, progress=progress)
                summary |= load_london_crime(data_dir=data_dir, log=log, progress=progress)
                if publication_is_stale():
                    refresh_statistics()  # the planner has not yet seen what was just loaded
                    publication = build_publication(log=log)
                    summary["published figures"] = publication.figure_count if publication else 0
                else:
                    summary["published figures"] = "unchanged"
                if dry_run:
                    raise DryRunRollback
        except DryRunRollback:
            log("Dry run: everything validated and rolled back; nothing was written.")
        except UploadError as error:
            raise CommandError(str(error)) from error
        log(self.style.SUCCESS("Summary"))
        for name, value in summary.items():
            log(f"  {name}: {value:,}" if isinstance(value, int) else f"  {name}: {value}")
        log(f"  time: {time.monotonic() - started:.1f} s")
