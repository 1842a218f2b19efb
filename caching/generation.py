"""A counter in Redis for what changes pages besides the publication: staff-edited page text
and Safer Neighbourhoods teams. It is part of every page key, so an edit switches pages at once.
"""

from django.core.cache import cache
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

    for model in (PageContent, SaferNeighbourhoodTeam):
        post_save.connect(bump, sender=model, dispatch_uid=f"caching-{model.__name__}-save")
        post_delete.connect(bump, sender=model, dispatch_uid=f"caching-{model.__name__}-delete")
