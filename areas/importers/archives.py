"""Uploaded zip archives, opened with size caps: any upload (crime files, census, boundary
files) goes through here, so a zip bomb is cut off in one place."""

import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from django.conf import settings

from areas.importers.errors import UploadError

# Uploads larger than this are refused before a byte is read (settings.UPLOAD_MAX_BYTES).
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# A zip archive may expand to at most this many bytes in all (zip bombs are cut off here).
DEFAULT_MAX_UNZIPPED = 300 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def unzip(
    path: Path, *, file_name: str, suffixes: tuple[str, ...] = (".csv",)
) -> list[tuple[Path, str]]:
    """Extract the CSVs (or files of other suffixes) of a zip to a temporary folder (the caller
    removes it), stopping at the uncompressed size cap.

    Sizes in the zip's own directory can lie, so the bytes actually read are counted.
    """
    cap = int(getattr(settings, "UPLOAD_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED))
    per_file = max_upload_bytes()
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    found: list[tuple[Path, str]] = []
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.lower().endswith(suffixes):
                    continue
                name = Path(info.filename).name
                target = folder / f"{len(found)}-{name}"
                written = 0
                with archive.open(info) as source, target.open("wb") as out:
                    for block in iter(lambda s=source: s.read(1 << 20), b""):
                        written += len(block)
                        total += len(block)
                        if written > per_file or total > cap:
                            raise UploadError(
                                file_name,
                                "the zip archive expands to more than "
                                f"{min(cap, per_file) / 1024 / 1024:,.0f} MB: refused",
                                value=info.filename,
                            )
                        out.write(block)
                found.append((target, name))
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadError(file_name, f"the zip archive cannot be read: {error}") from None
    except BaseException:  # our own refusals, a full disk, an interrupt: nothing is left behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not found:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadError(file_name, f"the zip archive holds no {' or '.join(suffixes)} file")
    return found
