"""Bulk import of residents: the templates, the upload with its dry run, the run, its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.status_codes import HTTP_202_ACCEPTED

from api.core.auth import Caller, Scope
from api.core.effects import Effects
from api.people.imports import sheet
from api.people.imports.schemas import ImportRead, ImportRun
from api.people.imports.service import CONTENT_TYPES, ImportService

MAX_UPLOAD = sheet.MAX_BYTES + 100_000  # the form's own bytes; the service refuses a larger file


def provide_imports(state: State) -> ImportService:
    """The import service, with the personal-data cipher and the object store."""
    return ImportService(state.cipher, state.objects)


def _attachment(data: bytes, kind: str) -> Response[bytes]:
    return Response(
        data,
        media_type=CONTENT_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="residents-import.{kind}"'},
    )


@dataclass
class ImportForm:
    """Multipart form of an upload: the community, and the CSV or XLSX file."""

    community_id: UUID
    file: UploadFile


class PersonImportController(Controller):
    """Upload a file of households and residents, read its dry run, run it strict or lenient."""

    path = "/api/v1/person-imports"
    tags = ("persons",)
    dependencies = {"imports": Provide(provide_imports, sync_to_thread=False)}

    @get("/templates/residents.csv", media_type="text/csv")
    async def csv_template(self, caller: Caller) -> Response[bytes]:
        """The CSV template (UTF-8 with a BOM): the columns and one example row."""
        Scope.of(caller, "person.write")
        return _attachment(sheet.template_csv(), "csv")

    @get("/templates/residents.xlsx", media_type=CONTENT_TYPES["xlsx"])
    async def xlsx_template(self, caller: Caller) -> Response[bytes]:
        """The XLSX template: the columns as text cells and one example row."""
        Scope.of(caller, "person.write")
        return _attachment(sheet.template_xlsx(), "xlsx")

    @post("/", request_max_body_size=MAX_UPLOAD)
    async def upload(
        self,
        caller: Caller,
        imports: ImportService,
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportRead:
        """Keep the file (for the audit trail) and answer its dry run, row by row."""
        return await imports.check(
            caller,
            community_id=data.community_id,
            filename=data.file.filename or "",
            data=await data.file.read(),
        )

    @get("/{import_id:uuid}")
    async def get_import(
        self, caller: Caller, imports: ImportService, import_id: UUID
    ) -> ImportRead:
        """An import's dry run or outcome."""
        return await imports.get(caller, import_id)

    @post("/{import_id:uuid}/run", status_code=HTTP_202_ACCEPTED)
    async def run(
        self,
        caller: Caller,
        imports: ImportService,
        effects: Effects,
        import_id: UUID,
        data: ImportRun,
    ) -> ImportRead:
        """Queue the import: progress comes over the socket (`person_import.progress`)."""
        return await imports.start(caller, import_id, data.mode, effects)
