"""A file storage on a full disk: every save fails as the kernel would say it (ENOSPC)."""

import errno

from django.core.files.storage import FileSystemStorage


class FullDiskStorage(FileSystemStorage):
    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device", name)
