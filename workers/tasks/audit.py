"""Jobs of the audit domain: the nightly walk of the chain, and anchoring its head."""

from __future__ import annotations

from typing import Any

import structlog

from api.audit import anchors, service
from workers.tasks.context import object_store

log = structlog.get_logger()


def _anchor_key(ctx: dict[str, Any]) -> anchors.AnchorKey:
    """The worker's anchor key: from ctx (tests) or, on first use, the settings' key file."""
    if "anchor_key" not in ctx:
        ctx["anchor_key"] = anchors.anchor_key(ctx["settings"].audit_anchor_key_path)
    key: anchors.AnchorKey = ctx["anchor_key"]
    return key


async def verify_audit_chain(ctx: dict[str, Any]) -> bool:
    """Walk the hash chain and check its anchors (nightly); a break is logged as an error."""
    result = await service.verify()
    async with object_store(ctx) as store:
        held = await anchors.verify_anchors(store, _anchor_key(ctx))
    if result.ok:
        log.info("audit.chain.verified", checked=result.checked)
    else:
        log.error("audit.chain.broken", entry_id=result.broken_id, reason=result.reason)
    if held.ok:
        log.info("audit.anchors.verified", checked=held.checked, retired=held.retired)
    else:
        log.error("audit.anchors.broken", problems=held.problems)
    return result.ok and held.ok


async def anchor_audit_head(ctx: dict[str, Any]) -> int | None:
    """Sign the chain's head into the object store and the log; the anchored sequence number."""
    async with object_store(ctx) as store:
        anchor = await anchors.write_anchor(store, _anchor_key(ctx))
    return anchor.seq if anchor else None
