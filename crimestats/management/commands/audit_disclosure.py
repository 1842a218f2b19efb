"""Audit every publication ever public: no hidden small count may be recoverable from them all."""

from django.core.management.base import BaseCommand, CommandError

from crimestats.models import Publication
from crimestats.services.union_audit import audit_all_publications, public_publications


class Command(BaseCommand):
    help = (
        "Check with linear programming that no hidden small figure can be narrowed down from "
        "everything ever published (every public publication, rolled back or not)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--boroughs", help="comma-separated borough codes to audit (default: all of London)"
        )
        parser.add_argument(
            "--publication",
            type=int,
            help="audit the union of every public publication up to and including this one",
        )

    def handle(self, *args, boroughs: str | None, publication: int | None, **options):
        codes = [code.strip() for code in (boroughs or "").split(",") if code.strip()] or None
        up_to = None
        if publication is not None:
            up_to = Publication.objects.filter(pk=publication).first()
            if up_to is None:
                raise CommandError(f"No publication {publication}.")
        publications = public_publications(up_to=up_to)
        if not publications:
            raise CommandError("No publication has been made public: nothing to audit.")
        ids = ", ".join(str(p.pk) for p in publications)
        self.stdout.write(f"Auditing publications {ids} ({', '.join(codes or ['all London'])})")
        outcome = audit_all_publications(
            boroughs=codes, publications=publications, log=self.stdout.write
        )
        self.stdout.write(f"cells checked: {outcome.checked:,}")
        self.stdout.write(f"cells failing: {len(outcome.failures):,}")
        self.stdout.write(f"pinned to one value: {outcome.pinned:,}")
        self.stdout.write(
            f"of the failing, already so before first published and narrowed no further: "
            f"{outcome.bound_before:,}"
        )
        self.stdout.write(f"linear programs solved: {outcome.lps:,}")
        self.stdout.write(f"time taken: {outcome.seconds:.1f} s")
        self.stdout.write("relations found and modelled:")
        for kind, found in outcome.relations.items():
            if isinstance(found, dict):
                found = (
                    f"{found['exact']:,} of {found['tested']:,} hold exactly (equalities); "
                    f"{found['parents with an inequality']:,} parents with an inequality"
                )
            self.stdout.write(f"  {kind}: {found}")
        for failure in outcome.failures[:50]:
            self.stdout.write(f"  FAIL {failure}")
        if outcome.failures:
            raise CommandError(f"{len(outcome.failures)} hidden figures can be narrowed down")
        self.stdout.write(self.style.SUCCESS("Audit passed: every hidden figure stays hidden."))
