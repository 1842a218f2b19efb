"""Audit the current publication: no hidden small count may be recoverable from what is shown."""

from django.core.management.base import BaseCommand, CommandError

from crimestats.selectors import current_publication
from crimestats.services.disclosure_audit import audit_publication


class Command(BaseCommand):
    help = "Check with linear programming that no suppressed figure can be worked out."

    def add_arguments(self, parser):
        parser.add_argument(
            "--boroughs", help="comma-separated borough codes to audit (default: all of London)"
        )

    def handle(self, *args, boroughs: str | None, **options):
        publication = current_publication()
        if publication is None:
            raise CommandError("No current publication to audit.")
        codes = [code for code in (boroughs or "").split(",") if code.strip()] or None
        self.stdout.write(f"Auditing {publication} ({', '.join(codes) if codes else 'all London'})")
        outcome = audit_publication(publication=publication, boroughs=codes, log=self.stdout.write)
        self.stdout.write(f"cells checked: {outcome.checked:,}")
        self.stdout.write(f"cells failing: {len(outcome.failures):,}")
        self.stdout.write(f"linear programs solved: {outcome.lps:,}")
        self.stdout.write(f"time taken: {outcome.seconds:.1f} s")
        for failure in outcome.failures[:50]:
            low, high = failure.feasible
            self.stdout.write(
                f"  FAIL {failure.area} {failure.category} {failure.figure}: could be only "
                f"{low:g} to {high:g}; pinned by {', '.join(failure.pinned_by)}"
            )
        if outcome.failures:
            raise CommandError(f"{len(outcome.failures)} hidden figures can be narrowed down")
        self.stdout.write(self.style.SUCCESS("Audit passed: every hidden figure stays hidden."))
