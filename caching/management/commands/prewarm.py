"""Warm the page cache for the current publication; with --watch, again after every switch."""

import signal
import sys
import time

from django.core.management.base import BaseCommand

from caching import pointer, prewarm


class Command(BaseCommand):
    help = "Render the pages people hit first (London, boroughs, wards, then LSOAs)."

    def add_arguments(self, parser):
        parser.add_argument("--watch", action="store_true", help="keep running; warm each switch")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between looks")
        parser.add_argument("--no-open-data", action="store_true", help="skip the download files")

    def handle(self, *args, watch: bool, interval: float, no_open_data: bool, **options):
        # A TERM (make run stopping) ends the job like Ctrl-C, so a run in progress says so.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        warmed = None
        while True:
            pointer.forget()
            current = pointer.current()
            if current is not None and current.publication_id != warmed:
                run = prewarm.warm(
                    publication_id=current.publication_id,
                    fetch=prewarm.default_fetch(),
                    write_open_data=not no_open_data,
                    log=self.stdout.write,
                )
                self.stdout.write(f"{run}: {run.phase}, {run.failed} failed, {run.seconds:.0f} s")
                if run.phase == "done":
                    warmed = current.publication_id
                continue
            if not watch:
                return
            time.sleep(interval)
