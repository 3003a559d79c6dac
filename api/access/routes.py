"""Access control endpoints: doors, access points, schedules, groups, credentials, QR, the log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from api.access import doors, enrolment, overrides, phone_keys, points, records
from api.access.credentials import DuplicateCredential
from api.access.phone_keys import InvalidPhoneKey, PhoneKeyRevoked, TooManyPhoneKeys
from api.access.rows import CredentialKind
from api.access.schemas import (
    AccessGroupCreate,
    AccessGroupRead,
    AccessGroupUpdate,
    AccessPointCreate,
    AccessPointPage,
    AccessPointRead,
    AccessPointUpdate,
    AccessRecordPage,
    AccessScheduleCreate,
    AccessScheduleRead,
    AccessScheduleUpdate,
    CredentialCreate,
    CredentialPage,
    CredentialRead,
    CredentialRevoke,
    DoorOpen,
    DoorOpenResult,
    DoorRead,
    EmergencyRelease,
    EmergencyReleaseEnd,
    PhoneKeyCreate,
    PhoneKeyRead,
    QrToken,
    ReleaseResult,
    RemoteOpen,
)
from api.core.auth import Caller
from api.core.effects import Effects
from api.core.openapi import raises
from api.core.paging import PageNumber, PageSize
from api.devices.bus import CommandBus
from api.devices.routes import provide_bus
from api.devices.service import BridgeUnavailable

Result = Literal["granted", "denied", "failed"]
Direction = Literal["in", "out"]


class DoorController(Controller):
    """Opening doors: residents by app, guards from the desk with a reason."""

    path = "/api/v1/doors"
    tags = ["access"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @get("/")
    async def list_doors(self, caller: Caller) -> list[DoorRead]:
        """The doors the caller's household may pass: its unit doors and the community gates."""
        return await doors.doors(caller)

    @post(
        "/{device_id:uuid}/open",
        status_code=HTTP_200_OK,
        opt=raises(doors.NotEntitled, BridgeUnavailable),
    )
    async def open_door(
        self,
        caller: Caller,
        bus: CommandBus,
        effects: Effects,
        state: State,
        device_id: UUID,
        data: DoorOpen,
    ) -> DoorOpenResult:
        """Open a door; refused with a reason when the caller may not; recorded either way.
        A granted door that did not open raises the door alarm (`guards_notified`)."""
        return await doors.open_door(
            caller,
            bus,
            device_id,
            direction=data.direction,
            effects=effects,
            door_failed=state.door_failed,
        )

    @post(
        "/{device_id:uuid}/remote-open",
        status_code=HTTP_200_OK,
        opt=raises(BridgeUnavailable),
    )
    async def remote_open(
        self, caller: Caller, bus: CommandBus, device_id: UUID, data: RemoteOpen
    ) -> DoorOpenResult:
        """A guard opens a door from the desk; the stated reason is recorded and audited."""
        return await overrides.remote_open(
            caller, bus, device_id, reason=data.reason, direction=data.direction
        )


class AccessController(Controller):
    """A resident's dynamic QR; emergency release of doors."""

    path = "/api/v1/access"
    tags = ["access"]
    dependencies = {"bus": Provide(provide_bus, sync_to_thread=False)}

    @post("/qr", status_code=HTTP_200_OK)
    async def qr(self, caller: Caller, effects: Effects) -> QrToken:
        """A fresh signed QR code for the caller, good for at most 60 seconds at the readers."""
        return await enrolment.my_qr(caller, effects)

    @get("/phone-keys")
    async def list_phone_keys(self, caller: Caller) -> list[PhoneKeyRead]:
        """The caller's phone keys: phones that make their own QR codes, offline too."""
        return await phone_keys.mine(caller)

    @post("/phone-keys", opt=raises(InvalidPhoneKey, TooManyPhoneKeys, DuplicateCredential))
    async def register_phone_key(
        self, caller: Caller, effects: Effects, data: PhoneKeyCreate
    ) -> PhoneKeyRead:
        """Register the public key this phone made; its private key never leaves the phone."""
        return await phone_keys.register(caller, data, effects)

    @post(
        "/phone-keys/{credential_id:uuid}/revoke",
        status_code=HTTP_200_OK,
        opt=raises(PhoneKeyRevoked),
    )
    async def revoke_phone_key(
        self, caller: Caller, effects: Effects, credential_id: UUID
    ) -> PhoneKeyRead:
        """Revoke one of the caller's phone keys: every online bridge refuses it within 5 s."""
        return await phone_keys.revoke(caller, credential_id, effects)

    @post("/emergency-release", status_code=HTTP_200_OK)
    async def emergency_release(
        self, caller: Caller, bus: CommandBus, effects: Effects, data: EmergencyRelease
    ) -> ReleaseResult:
        """Unlock every door of the community or a building until the release is ended."""
        return await overrides.release(caller, bus, data, effects)

    @post("/emergency-release/end", status_code=HTTP_200_OK)
    async def end_emergency_release(
        self, caller: Caller, bus: CommandBus, effects: Effects, data: EmergencyReleaseEnd
    ) -> ReleaseResult:
        """Lock the released doors again."""
        return await overrides.end_release(caller, bus, data, effects)


class AccessPointController(Controller):
    """Access points (gates, unit doors, turnstiles, lifts, key rooms)."""

    path = "/api/v1/access-points"
    tags = ["access"]

    @get("/")
    async def list_points(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        kind: str | None = None,
    ) -> AccessPointPage:
        """Access points of the caller's communities."""
        return await points.list_points(
            caller, page=page, page_size=page_size, community_id=community_id, kind=kind
        )

    @post("/")
    async def create_point(
        self, caller: Caller, effects: Effects, data: AccessPointCreate
    ) -> AccessPointRead:
        """Add an access point."""
        return await points.create_point(caller, data, effects)

    @get("/{point_id:uuid}")
    async def get_point(self, caller: Caller, point_id: UUID) -> AccessPointRead:
        """One access point."""
        return await points.get_point(caller, point_id)

    @patch("/{point_id:uuid}")
    async def update_point(
        self, caller: Caller, effects: Effects, point_id: UUID, data: AccessPointUpdate
    ) -> AccessPointRead:
        """Change an access point; the bridges get the credentials it touches again."""
        return await points.update_point(caller, point_id, data, effects)

    @delete("/{point_id:uuid}")
    async def delete_point(self, caller: Caller, effects: Effects, point_id: UUID) -> None:
        """Remove an access point."""
        await points.delete_point(caller, point_id, effects)


class AccessScheduleController(Controller):
    """When groups may pass: weekly windows and holidays."""

    path = "/api/v1/access-schedules"
    tags = ["access"]

    @get("/")
    async def list_schedules(
        self, caller: Caller, community_id: UUID | None = None
    ) -> list[AccessScheduleRead]:
        """Schedules of the caller's communities."""
        return await points.list_schedules(caller, community_id=community_id)

    @post("/")
    async def create_schedule(
        self, caller: Caller, data: AccessScheduleCreate
    ) -> AccessScheduleRead:
        """Add a schedule."""
        return await points.create_schedule(caller, data)

    @patch("/{schedule_id:uuid}")
    async def update_schedule(
        self, caller: Caller, effects: Effects, schedule_id: UUID, data: AccessScheduleUpdate
    ) -> AccessScheduleRead:
        """Change a schedule; the groups using it pass by the new one within seconds."""
        return await points.update_schedule(caller, schedule_id, data, effects)

    @delete("/{schedule_id:uuid}")
    async def delete_schedule(self, caller: Caller, effects: Effects, schedule_id: UUID) -> None:
        """Remove a schedule (its groups then pass at any time)."""
        await points.delete_schedule(caller, schedule_id, effects)


class AccessGroupController(Controller):
    """Access groups: points with a schedule, given to credentials."""

    path = "/api/v1/access-groups"
    tags = ["access"]

    @get("/")
    async def list_groups(
        self, caller: Caller, community_id: UUID | None = None
    ) -> list[AccessGroupRead]:
        """Groups of the caller's communities."""
        return await points.list_groups(caller, community_id=community_id)

    @post("/")
    async def create_group(self, caller: Caller, data: AccessGroupCreate) -> AccessGroupRead:
        """Add a group."""
        return await points.create_group(caller, data)

    @patch("/{group_id:uuid}")
    async def update_group(
        self, caller: Caller, effects: Effects, group_id: UUID, data: AccessGroupUpdate
    ) -> AccessGroupRead:
        """Change a group; its credentials follow within seconds."""
        return await points.update_group(caller, group_id, data, effects)

    @delete("/{group_id:uuid}")
    async def delete_group(self, caller: Caller, effects: Effects, group_id: UUID) -> None:
        """Remove a group."""
        await points.delete_group(caller, group_id, effects)


class CredentialController(Controller):
    """Cards, PINs and faces enrolled by managers; every kind listed and revoked here."""

    path = "/api/v1/credentials"
    tags = ["access"]

    @get("/")
    async def list_credentials(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        community_id: UUID | None = None,
        person_id: UUID | None = None,
        household_id: UUID | None = None,
        visitor_pass_id: UUID | None = None,
        kind: CredentialKind | None = None,
        status: Literal["active", "revoked"] | None = None,
    ) -> CredentialPage:
        """Credentials of the caller's communities, newest first; values masked."""
        return await enrolment.search(
            caller,
            page=page,
            page_size=page_size,
            community_id=community_id,
            person_id=person_id,
            household_id=household_id,
            visitor_pass_id=visitor_pass_id,
            kind=kind,
            status=status,
        )

    @post("/")
    async def enrol(
        self, caller: Caller, effects: Effects, data: CredentialCreate
    ) -> CredentialRead:
        """Enrol a card, PIN or enrolled face for a person; the bridges hold it within seconds."""
        return await enrolment.enrol(caller, data, effects)

    @get("/{credential_id:uuid}")
    async def get_credential(self, caller: Caller, credential_id: UUID) -> CredentialRead:
        """One credential."""
        return await enrolment.get(caller, credential_id)

    @post("/{credential_id:uuid}/revoke", status_code=HTTP_200_OK)
    async def revoke(
        self, caller: Caller, effects: Effects, credential_id: UUID, data: CredentialRevoke
    ) -> CredentialRead:
        """Revoke a credential: every reader refuses it within 5 seconds."""
        return await enrolment.revoke(caller, credential_id, reason=data.reason, effects=effects)


class AccessRecordController(Controller):
    """The access log."""

    path = "/api/v1/access-records"
    tags = ["access"]

    @get("/")
    async def list_access_records(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        device_id: UUID | None = None,
        point_id: UUID | None = None,
        person_id: UUID | None = None,
        credential_id: UUID | None = None,
        visitor_pass_id: UUID | None = None,
        result: Result | None = None,
        method: str | None = None,
        direction: Direction | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AccessRecordPage:
        """Passes and refusals, newest first; residents see their own."""
        return await records.access_log(
            caller,
            page=page,
            page_size=page_size,
            device_id=device_id,
            point_id=point_id,
            person_id=person_id,
            credential_id=credential_id,
            visitor_pass_id=visitor_pass_id,
            result=result,
            method=method,
            direction=direction,
            since=since,
            until=until,
        )


class AccessRecordExportController(Controller):
    """The access log as CSV."""

    path = "/api/v1/access-records.csv"
    tags = ["access"]

    @get("/", media_type="text/csv")
    async def export_access_records(
        self,
        caller: Caller,
        device_id: UUID | None = None,
        point_id: UUID | None = None,
        person_id: UUID | None = None,
        credential_id: UUID | None = None,
        visitor_pass_id: UUID | None = None,
        result: Result | None = None,
        method: str | None = None,
        direction: Direction | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Stream:
        """The filtered log as CSV for Excel (UTF-8 with BOM, Chinese headers); audited."""
        rows = await records.export_csv(
            caller,
            device_id=device_id,
            point_id=point_id,
            person_id=person_id,
            credential_id=credential_id,
            visitor_pass_id=visitor_pass_id,
            result=result,
            method=method,
            direction=direction,
            since=since,
            until=until,
        )
        return Stream(
            rows,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="access-records.csv"'},
        )


ACCESS_CONTROLLERS = [
    DoorController,
    AccessController,
    AccessPointController,
    AccessScheduleController,
    AccessGroupController,
    CredentialController,
    AccessRecordController,
    AccessRecordExportController,
]
