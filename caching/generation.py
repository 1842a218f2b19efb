"""A counter in Redis for what changes pages besides the publication: staff-edited page text,
Safer Neighbourhoods teams and the public history (a rollback returns to an older publication,
whose stored releases page and feeds lack the rollback). It is part of every page key, so a
change switches pages at once.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

KEY = "caching:generation"


def current() -> int:
    """The generation now; 0 when Redis has none (or is down: then nothing is cached anyway)."""
    return int(cache.get(KEY) or 0)


def bump(**_: object) -> None:
    """Start a new generation: every stored page becomes unreachable."""
    if not cache.add(KEY, 1, timeout=None):
        cache.incr(KEY)


def connect_signals() -> None:
    from areas.models import SaferNeighbourhoodTeam
    from crimestats.content_models import PageContent
    from crimestats.models import Revision

    for model in (PageContent, SaferNeighbourhoodTeam):
        post_save.connect(bump, sender=model, dispatch_uid=f"caching-{model.__name__}-save")
        post_delete.connect(bump, sender=model, dispatch_uid=f"caching-{model.__name__}-delete")
    post_save.connect(_bump_on_commit, sender=Revision, dispatch_uid="caching-Revision-save")


def _bump_on_commit(**_: object) -> None:
    """After the switch commits: a page rendered meanwhile is filed under the old generation."""
    transaction.on_commit(bump)
