"""The equipment ledger over HTTP: assets, their lifecycle and history, spare parts, labels."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.core.auth import Caller
from api.core.paging import PageNumber, PageSize
from api.devices.ledger import assets, parts
from api.devices.ledger.labels import label_font
from api.devices.ledger.lifecycle import Status
from api.devices.ledger.schemas import (
    AssetCreate,
    AssetPage,
    AssetRead,
    AssetUpdate,
    HistoryPage,
    LabelRequest,
    MovementCreate,
    MovementPage,
    MovementRead,
    PartCreate,
    PartPage,
    PartRead,
    PartUpdate,
    StatusChange,
    TakeRequest,
)

Query = Annotated[str | None, Parameter(max_length=100)]


class AssetController(Controller):
    """Assets: every device a bridge reports, and those added by hand."""

    path = "/api/v1/ledger/assets"
    tags = ["ledger"]

    @get("/")
    async def list_assets(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: Annotated[str | None, Parameter(max_length=24)] = None,
        status: Status | None = None,
        building_id: UUID | None = None,
        bridged: bool | None = None,
        warranty_within: Annotated[int | None, Parameter(ge=0, le=3650)] = None,
        q: Query = None,
    ) -> AssetPage:
        """Assets by asset code, filtered by kind, status, building, bridge, warranty ending
        within so many days, and a search of name, code, serial, vendor, model and place."""
        return await assets.list_assets(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            kind=kind,
            status=status,
            building_id=building_id,
            bridged=bridged,
            warranty_within=warranty_within,
            q=q,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_asset(self, caller: Caller, data: AssetCreate) -> AssetRead:
        """Add an asset no bridge drives (maintenance staff, managers)."""
        return await assets.create_asset(caller, data)

    @get("/{asset_id:uuid}")
    async def get_asset(self, caller: Caller, asset_id: UUID) -> AssetRead:
        """One asset."""
        return await assets.get_asset(caller, asset_id)

    @patch("/{asset_id:uuid}")
    async def update_asset(self, caller: Caller, asset_id: UUID, data: AssetUpdate) -> AssetRead:
        """Change ledger fields (name and place only of assets added by hand)."""
        return await assets.update_asset(caller, asset_id, data)

    @post("/{asset_id:uuid}/status", status_code=HTTP_200_OK)
    async def change_status(self, caller: Caller, asset_id: UUID, data: StatusChange) -> AssetRead:
        """Move the asset along its lifecycle; 409 `transition_not_allowed` off the graph."""
        return await assets.change_status(caller, asset_id, data)

    @get("/{asset_id:uuid}/history")
    async def asset_history(
        self, caller: Caller, asset_id: UUID, page: PageNumber = 1, page_size: PageSize = 50
    ) -> HistoryPage:
        """Every change of the asset, newest first."""
        return await assets.asset_history(caller, asset_id, page=page, page_size=page_size)

    @post("/labels", status_code=HTTP_200_OK, media_type="application/pdf")
    async def print_labels(
        self, caller: Caller, state: State, data: LabelRequest
    ) -> Response[bytes]:
        """A PDF sheet of QR labels for these assets (A4, 21 a page)."""
        settings = state.settings
        pdf = await assets.label_sheet(
            caller,
            data.asset_ids,
            public_url=settings.public_url,
            font=label_font(settings.label_font),
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="asset-labels.pdf"'},
        )


class PartController(Controller):
    """Spare parts, their stock and its movements."""

    path = "/api/v1/ledger/parts"
    tags = ["ledger"]

    @get("/")
    async def list_parts(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        low: bool | None = None,
        q: Query = None,
    ) -> PartPage:
        """Spare parts by code; `low=true`: at or under their minimum stock."""
        return await parts.list_parts(
            caller, page=page, page_size=page_size, community_id=community_id, low=low, q=q
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_part(self, caller: Caller, data: PartCreate) -> PartRead:
        """A new spare part with its opening stock."""
        return await parts.create_part(caller, data)

    @get("/{part_id:uuid}")
    async def get_part(self, caller: Caller, part_id: UUID) -> PartRead:
        """One spare part."""
        return await parts.get_part(caller, part_id)

    @patch("/{part_id:uuid}")
    async def update_part(self, caller: Caller, part_id: UUID, data: PartUpdate) -> PartRead:
        """A part's description and minimum level."""
        return await parts.update_part(caller, part_id, data)

    @post("/{part_id:uuid}/movements", status_code=HTTP_201_CREATED)
    async def move_stock(self, caller: Caller, part_id: UUID, data: MovementCreate) -> MovementRead:
        """Stock in, out or adjusted to a count; 409 `insufficient_stock` below zero."""
        return await parts.move_stock(caller, part_id, data)

    @get("/{part_id:uuid}/movements")
    async def list_movements(
        self, caller: Caller, part_id: UUID, page: PageNumber = 1, page_size: PageSize = 50
    ) -> MovementPage:
        """A part's movements, newest first."""
        return await parts.movements(caller, part_id, page=page, page_size=page_size)

    @post("/take", status_code=HTTP_201_CREATED)
    async def take_parts(self, caller: Caller, data: TakeRequest) -> list[MovementRead]:
        """Take several parts out for one use (an asset, a reason): all or none."""
        return await parts.take(caller, data)


LEDGER_CONTROLLERS = (AssetController, PartController)
