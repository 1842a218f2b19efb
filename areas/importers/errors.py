"""The one error type every importer raises for a problem a person can fix in the file."""

from dataclasses import dataclass


@dataclass
class UploadError(Exception):
    """A problem in an uploaded or loaded file, located as precisely as the file allows."""

    file: str
    reason: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        place = ", ".join(where)
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{place}: {self.reason}{shown}"
