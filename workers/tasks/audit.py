"""Jobs of the audit domain."""

from __future__ import annotations

from typing import Any

import structlog

from api.audit import service

log = structlog.get_logger()


async def verify_audit_chain(ctx: dict[str, Any]) -> bool:
    """Walk the audit hash chain (nightly); a broken link is logged as an error for operators."""
    result = await service.verify()
    if result.ok:
        log.info("audit.chain.verified", checked=result.checked)
    else:
        log.error("audit.chain.broken", entry_id=result.broken_id, reason=result.reason)
    return result.ok
