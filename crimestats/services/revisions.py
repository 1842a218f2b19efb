"""Revisions: what the releases page and the feeds say about each publish and rollback.

Recorded in the same transaction as the switch, so the public history can never name a
publication that did not go public, nor miss one that did.
"""

from django.db import transaction

from crimestats.models import Publication, Revision, Upload

# What the public page keeps of a crime file's preview (the rest is for the admin).
KEPT = (
    "file",
    "detected",
    "source",
    "force",
    "level",
    "months_added",
    "months_restated",
    "months",
    "areas_affected",
    "london",
    "borough_categories",
)


def file_previews(upload: Upload) -> list[dict]:
    """The previews an upload was checked against: one per file of a bundle."""
    preview = upload.preview or {}
    return preview["files"] if preview.get("bundle") else [preview] if preview else []


def restated_months(upload: Upload) -> list[str]:
    """Months already public whose counts this upload changes (the preview reports a month as
    restated only where a count changed)."""
    return sorted({m for p in file_previews(upload) for m in p.get("months_restated", [])})


def note_required(upload: Upload) -> bool:
    return bool(restated_months(upload))


def _summary(preview: dict, upload: Upload) -> dict:
    """One file's part of a revision: months, London totals, and the boroughs that changed."""
    kept = {name: preview[name] for name in KEPT if name in preview}
    kept.setdefault("file", upload.file_name)
    kept["boroughs"] = [b for b in preview.get("boroughs", []) if b.get("changed")]
    return kept


def changes_of(upload: Upload | None) -> list[dict]:
    """What a publish changed, file by file, as its preview said; boundary and census uploads
    say what kind of change they were."""
    if upload is None:
        return []
    preview = upload.preview or {}
    if upload.kind == Upload.Kind.CENSUS:
        measures = [
            {k: m.get(k) for k in ("measure", "before", "after", "lsoas_changed", "kept")}
            for m in preview.get("measures", [])
        ]
        return [{"file": upload.file_name, "kind": "census", "measures": measures}]
    if upload.kind == Upload.Kind.BOUNDARIES:
        return [
            {
                "file": upload.file_name,
                "kind": "boundaries",
                "level": preview.get("level", ""),
                "vintage": preview.get("vintage", ""),
                "counts": preview.get("counts", {}),
            }
        ]
    return [_summary(p, upload) for p in file_previews(upload) if p.get("months") is not None]


def record_revision(
    *,
    kind: str,
    publication: Publication | None,
    replaced: Publication | None,
    upload: Upload | None = None,
    note: str = "",
    user=None,
) -> Revision | None:
    """Record that ``publication`` replaced ``replaced`` on the site; nothing when the public
    figures did not change (the same publication stays current)."""
    if publication is None or (replaced is not None and replaced.pk == publication.pk):
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_revision must run in the transaction that switches")
    return Revision.objects.create(
        kind=kind,
        publication=publication,
        replaced=replaced,
        upload=upload,
        note=note.strip(),
        changes=changes_of(upload),
        created_by=user if user is not None and user.is_authenticated else None,
    )
