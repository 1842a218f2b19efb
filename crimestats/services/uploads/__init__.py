"""Monthly uploads: receive files, check every row, preview the change, publish it atomically.

Flow, one module per stage: `receiving` stores the files and queues them (files sent together
that go together, like a month's MPS files, as one upload: `files.group_files`); the worker
(`process_uploads`, `queue`) runs `checking.validate_upload` (nothing is written but the Upload
row: errors, warnings, `preview`); an admin acknowledges warnings and asks to publish; the worker
runs `publishing.publish_upload`: the importers write the releases and their current months, then
the publication is rebuilt and switched to, all in one transaction under the publish lock.
"""

from crimestats.models import Upload
from crimestats.services.uploads.checking import (
    ERRORS_SHOWN,
    Checked,
    check_census,
    check_crime_files,
    check_file,
    errors_as_csv,
    neutralise,
    validate_upload,
)
from crimestats.services.uploads.files import Group, bundle_files, detect_kind, group_files
from crimestats.services.uploads.publishing import (
    acknowledge,
    checked_against,
    needs_acknowledgement,
    publish_upload,
    request_publish,
)
from crimestats.services.uploads.queue import claim_next, process_queue, recover_stale_jobs, run_job
from crimestats.services.uploads.receiving import (
    receive_files,
    receive_upload,
    receive_uploaded_file,
    receive_uploaded_files,
)

KINDS = Upload.Kind.choices

__all__ = [
    "ERRORS_SHOWN",
    "KINDS",
    "Checked",
    "Group",
    "acknowledge",
    "bundle_files",
    "check_census",
    "check_crime_files",
    "check_file",
    "checked_against",
    "claim_next",
    "detect_kind",
    "errors_as_csv",
    "group_files",
    "needs_acknowledgement",
    "neutralise",
    "process_queue",
    "publish_upload",
    "receive_files",
    "receive_upload",
    "receive_uploaded_file",
    "receive_uploaded_files",
    "recover_stale_jobs",
    "request_publish",
    "run_job",
    "validate_upload",
]
