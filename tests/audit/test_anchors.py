"""Anchors of the audit chain: a signed head outside the database shows a truncated tail."""

from __future__ import annotations

import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar
from structlog.testing import capture_logs

from api.audit.anchors import PREFIX, Anchor, AnchorKey, verify_anchors, write_anchor
from api.audit.service import record, verify
from api.audit.tables import AuditEntry
from api.core.storage import LocalObjectStore, RetentionClass


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    """An object store of the test's own: anchors of other tests never meet this chain's tail."""
    return LocalObjectStore(
        tmp_path / "objects", public_url="http://127.0.0.1", signing_key=b"k" * 32
    )


@pytest.fixture
def key(tmp_path: Path) -> AnchorKey:
    return AnchorKey.load_or_create(tmp_path / "audit-anchor.pem")


async def entries(count: int) -> list[int]:
    """Ids of `count` fresh entries at the end of the chain."""
    tag = uuid.uuid4().hex[:8]
    for n in range(count):
        await record(f"test.anchor.{tag}", actor_name="anchor-test", details={"n": n})
    rows = await AuditEntry.select(AuditEntry.id).where(AuditEntry.action == f"test.anchor.{tag}")
    return sorted(r["id"] for r in rows)


async def put_raw(store: LocalObjectStore, anchor: Anchor) -> None:
    await store.put(
        anchor.key,
        msgspec.json.encode(anchor),
        content_type="application/json",
        retention=RetentionClass.AUDIT_6M,
    )


@pytest.mark.req("IAM-16")
class TestAnchors:
    async def test_a_clean_chain_with_anchors_verifies(
        self, app: Litestar, store: LocalObjectStore, key: AnchorKey
    ) -> None:
        first = await entries(2)
        earlier = await write_anchor(store, key)
        second = await entries(2)
        with capture_logs() as logs:
            anchor = await write_anchor(store, key)

        check = await verify_anchors(store, key)

        assert anchor is not None and anchor.seq == second[-1]
        assert (check.ok, check.checked, check.problems) == (True, 2, [])
        assert check.newest == anchor
        assert earlier is not None and earlier.seq == first[-1]
        assert await store.keys(PREFIX) == [earlier.key, anchor.key]
        [line] = [e for e in logs if e["event"] == "audit.anchor"]
        assert (line["seq"], line["hash"], line["signature"]) == (
            anchor.seq,
            anchor.hash,
            anchor.signature,
        )

    async def test_truncating_the_tail_past_an_anchor_is_detected(
        self, app: Litestar, store: LocalObjectStore, key: AnchorKey
    ) -> None:
        ids = await entries(3)
        anchor = await write_anchor(store, key)
        assert anchor is not None and anchor.seq == ids[-1]

        await AuditEntry.delete().where(AuditEntry.id >= ids[1])
        check = await verify_anchors(store, key)

        assert (await verify()).ok, "the shorter chain is consistent: only the anchor shows it"
        assert check.ok is False
        [problem] = check.problems
        assert f"entry {anchor.seq} with hash {anchor.hash[:16]}" in problem
        assert f"is missing: the chain ends at entry {ids[0]}" in problem

    async def test_a_forged_anchor_is_detected(
        self, app: Litestar, store: LocalObjectStore, key: AnchorKey
    ) -> None:
        await entries(1)
        genuine = await write_anchor(store, key)
        assert genuine is not None
        other = AnchorKey(Ed25519PrivateKey.generate())
        forged = other.sign(Anchor(seq=genuine.seq + 10**9, hash="f" * 64, at=datetime.now(UTC)))
        await put_raw(store, forged)
        # A genuine anchor moved to another sequence keeps its signature, which no longer fits.
        moved = msgspec.structs.replace(genuine, seq=genuine.seq + 1)
        await put_raw(store, moved)

        check = await verify_anchors(store, key)

        assert check.ok is False
        assert check.checked == 1  # the genuine one, which holds
        assert sorted(check.problems) == sorted(
            f"anchor {a.key}: bad signature (forged or altered)" for a in (forged, moved)
        )

    async def test_the_key_is_its_own_file_readable_by_its_owner_alone(
        self, tmp_path: Path, key: AnchorKey
    ) -> None:
        path = tmp_path / "audit-anchor.pem"
        again = AnchorKey.load_or_create(path)
        anchor = key.sign(Anchor(seq=1, hash="a" * 64, at=datetime.now(UTC)))

        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert again.verifies(anchor)
