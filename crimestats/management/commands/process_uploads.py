"""`manage.py process_uploads [--burst]`: the upload worker (checks and publishes queued uploads).

Runs beside the web server (`make run` starts both). The jobs are Upload rows, so a job survives
a closed browser tab and a restarted worker (half-done jobs go back to the queue: checking writes
no data and publishing is one transaction).
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from crimestats.services.uploads import process_queue, recover_stale_jobs


class Command(BaseCommand):
    help = "Check and publish queued uploads (forever, or until the queue is empty with --burst)."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")

    def handle(self, *args, burst: bool, interval: float, **options):
        if not burst:
            requeued = recover_stale_jobs()
            if requeued:
                self.stdout.write(f"{requeued} interrupted job(s) queued again")
        while True:
            close_old_connections()
            done = process_queue(log=lambda _: None)
            if done:
                self.stdout.write(f"{done} upload job(s) done")
            if burst:
                return
            time.sleep(interval)
