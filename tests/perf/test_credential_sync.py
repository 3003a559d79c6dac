"""Benchmark: the full credential set of 10,000 cards to a bridge, against bare baselines.

Prints: seconds from the bridge's inventory to the whole Credentials frame received over the real
WebSocket, the platform's compute time, bytes on the wire (and per credential), and, measured in
the same run, a plain SELECT of the same rows plus a bare msgspec encode of the same entries.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from api.access import sync
from api.access.credential_keys import keys
from api.access.credentials import VALUE_CONTEXT, log_changes, mask
from api.access.tables import Credential
from api.core.auth import Role
from device_bridge import protocol
from tests.access.helpers import DOORS
from tests.devices.peer import Peer, enrol
from tests.fixtures import AsRole
from tests.helpers import World
from tests.perf.sizes import size

N = size(10_000, smoke=500)


async def test_full_set_of_10000_credentials(as_role: AsRole, live_url: str, world: World) -> None:
    """Compute and send 10,000 card credentials; compare with SELECT + encode alone."""
    admin = await as_role(Role.SYSTEM_ADMIN)
    bridge = await enrol(admin, world.a.community, "bench-bridge")
    # A first link registers the doors and access points.
    async with Peer.authenticated(live_url, bridge, DOORS):
        pass

    cipher, now = keys().cipher, datetime.now(UTC)
    rows = []
    for i in range(N):
        number = f"{i:010d}"
        rows.append(
            Credential(
                id=uuid.uuid4(),
                community=world.a.community,
                kind="card",
                person=world.a.persons[i % 2],
                household=world.a.households[i % 2],
                value=cipher.encrypt(number, context=VALUE_CONTEXT),
                value_index=keys().index("card", number),
                masked=mask("card", number),
                created_at=now,
            )
        )
    start = time.perf_counter()
    for i in range(0, N, 1000):
        await Credential.insert(*rows[i : i + 1000])
    await log_changes(world.a.community, [r.id for r in rows])
    setup = time.perf_counter() - start

    start = time.perf_counter()
    frame = await sync.frame_for(uuid.UUID(bridge.id), world.a.community, since=None)
    compute = time.perf_counter() - start
    assert frame is not None and len(frame.upserts) == N

    async with Peer.open(live_url) as peer:
        await peer.send(peer.hello(bridge))
        await peer.recv()
        start = time.perf_counter()
        await peer.send(protocol.Inventory(devices=DOORS))
        while True:
            data = await peer.ws.recv()
            if isinstance(received := protocol.decode_to_bridge(data), protocol.Credentials):  # type: ignore[arg-type]
                break
        link = time.perf_counter() - start
    assert len(received.upserts) == N and received.since is None
    wire = len(data)

    start = time.perf_counter()
    plain = await Credential.select(*sync.CREDENTIAL_COLUMNS).where(
        Credential.community == world.a.community
    )
    select = time.perf_counter() - start
    start = time.perf_counter()
    bare = protocol.encode(frame)
    encode = time.perf_counter() - start
    assert len(plain) == N
    baseline = select + encode
    print(
        f"\ncredential sync, {N} cards (insert {setup:.2f} s): full set over the link "
        f"{link:.2f} s (platform compute {compute:.2f} s); {wire:,} bytes on the wire "
        f"(bare encode {len(bare):,}), "
        f"{wire / N:.0f} B/credential; baseline SELECT {select:.3f} s + bare encode "
        f"{encode:.3f} s = {baseline:.3f} s; ratio link/baseline {link / baseline:.1f}"
    )
