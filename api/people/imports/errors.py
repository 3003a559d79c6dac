"""Why an upload or a run is refused."""

from __future__ import annotations

from api.core.errors import Conflict, InvalidInput


class InvalidImportFile(InvalidInput):
    """The file cannot be read as an import: its `code` says why (set per instance)."""

    code = "invalid_import_file"
    message = "The file is not a CSV or XLSX import of the template's columns."

    MESSAGES = {
        "not_a_sheet": "The file is not a CSV or XLSX file.",
        "file_too_large": "The file is too large.",
        "too_many_rows": "The file has too many rows.",
        "invalid_headers": "The file's header row lacks columns of the template.",
        "empty_sheet": "The file has no data rows.",
    }

    def __init__(self, code: str, **extra: object) -> None:
        super().__init__(self.MESSAGES.get(code, self.message), field="file", **extra)
        self.code = code  # type: ignore[misc]


class ImportNotReady(Conflict):
    """A run was asked of an import that is queued, running or done."""

    code = "import_not_ready"
    message = "This import is already queued, running or done; upload the file again to re-run."
