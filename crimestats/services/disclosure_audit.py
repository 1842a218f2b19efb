"""The disclosure audit moved to crimestats/services/union_audit.py (every public publication,
built on its own); this name is kept for callers not yet updated."""

from crimestats.services.union_audit import (  # noqa: F401
    UnionAuditOutcome,
    UnionFailure,
    audit_all_publications,
    public_publications,
)
