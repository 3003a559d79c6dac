"""The audit log, readable by the audit administrator and nobody else."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get

from api.audit import service
from api.audit.schemas import AuditPage, VerifyRead
from api.core.auth import Caller, Scope
from api.core.paging import PageNumber, PageSize


class AuditController(Controller):
    """Search the log and check its hash chain."""

    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/")
    async def search_audit(
        self,
        caller: Caller,
        page: PageNumber = 1,
        page_size: PageSize = 50,
        action: str | None = None,
        actor: str | None = None,
        outcome: str | None = None,
        target_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AuditPage:
        """Entries newest first, filtered by action prefix, actor, outcome, target and time."""
        return await service.search(
            caller,
            page=page,
            page_size=page_size,
            action=action,
            actor=actor,
            outcome=outcome,
            target_id=target_id,
            since=since,
            until=until,
        )

    @get("/verify")
    async def verify_audit(self, caller: Caller) -> VerifyRead:
        """Walk the hash chain and report the first entry that does not fit."""
        Scope.of(caller, "audit.read")
        result = await service.verify()
        return VerifyRead(
            ok=result.ok, checked=result.checked, broken_id=result.broken_id, reason=result.reason
        )
