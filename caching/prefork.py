"""What gunicorn's master does once, before it forks the web workers (`when_ready` hook).

Measured under `make bench-load` (64 connections straight to gunicorn, caches warm): workers
stalled for 0.5–0.6 s at a time, all requests in flight with them, and the p99 was 170 ms.
Two causes, both fixed here or in deploy/gunicorn.conf.py:

- Python's full garbage collection walked the ~150,000 objects every worker inherits (Django,
  SciPy, GDAL, the compiled templates); 80 ms of CPU on an idle machine, several times that
  on two busy cores. `gc.freeze()` after loading moves them out of the collector's sight for
  good, and keeps their pages shared between the workers (copy-on-write).
- A worker recycled by `max_requests` paid its first-request costs again (URLconf, templates).
  They are paid here once instead, and `max_requests` is sized for the launch rate.
"""

import gc
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver


def project_templates() -> list[str]:
    """Every template under the project's own template folders, as the loader names them."""
    names = []
    for engine in settings.TEMPLATES:
        for folder in map(Path, engine.get("DIRS", [])):
            names += [str(p.relative_to(folder)) for p in sorted(folder.glob("**/*.html"))]
    return names


def load_before_fork() -> None:
    """Import every view, compile the project's templates, then freeze the heap.

    No database connection may cross the fork: any opened while loading is closed.
    """
    get_resolver().check()  # imports every view module (and what they import) to check them
    for name in project_templates():
        try:
            get_template(name)  # the cached loader keeps it compiled, shared by every worker
        except (TemplateDoesNotExist, TemplateSyntaxError):
            continue  # a template meant for another engine; the page that uses it will say
    connections.close_all()
    gc.collect()
    gc.freeze()
