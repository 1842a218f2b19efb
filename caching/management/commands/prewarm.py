"""Warm the page cache for the current publication; with --watch, again after every switch.

With --watch it also empties the front proxy's cache at each switch (caching/proxy.py) before
warming, so that nginx asks for the new publication's pages, which the warming then fills in.
"""

import signal
import sys
import time

from django.core.management.base import BaseCommand

from caching import pointer, prewarm, proxy


class Command(BaseCommand):
    help = "Render the pages people hit first (London, boroughs, wards, then LSOAs)."

    def add_arguments(self, parser):
        parser.add_argument("--watch", action="store_true", help="keep running; warm each switch")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks")
        parser.add_argument("--no-open-data", action="store_true", help="skip the download files")
        parser.add_argument(
            "--from-next-switch",
            action="store_true",
            help="with --watch: leave the publication current now as it is (benchmarks)",
        )

    def handle(
        self,
        *args,
        watch: bool,
        interval: float,
        no_open_data: bool,
        from_next_switch: bool,
        **options,
    ):
        # A TERM (make run stopping) ends the job like Ctrl-C, so a run in progress says so.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        pointer.forget()
        first = pointer.current()
        warmed = first.publication_id if first is not None and from_next_switch else None
        self._announce(first, settle=False)  # at start the web processes read it afresh
        while True:
            pointer.forget()
            current = pointer.current()
            self._announce(current)
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

    def _announce(self, current: pointer.Pointer | None, settle: bool = True) -> None:
        """Empty nginx's cache; if it cannot be, say so and go on (nginx keeps a page at most
        PAGE_CACHE_PROXY_SECONDS)."""
        try:
            if proxy.announce(current, settle=settle):
                self.stdout.write(f"nginx's cache emptied for {proxy.version(current)}")
        except OSError as error:
            self.stderr.write(f"nginx's cache was not emptied: {error}")
