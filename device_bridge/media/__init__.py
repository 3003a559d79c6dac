"""WebRTC media at the bridge: device sources behind one relay each, the live peers, call media.

`Media` is the bridge's one registry of both, created and closed with the bridge (`runtime.py`) and
shared by its drivers; a driver's `Intercom` (calls.py) runs the calls and live views of its devices
on it. See docs/bridge.md, "Media: calls and live view".
"""

from __future__ import annotations

from device_bridge.media.calls import Intercom
from device_bridge.media.peers import PeerRegistry, set_consent_timing
from device_bridge.media.sources import SourceHub


class Media:
    """The sources and peers of one bridge; `close()` ends every peer and stops every source."""

    def __init__(
        self,
        *,
        fps: float = 15.0,
        width: int = 640,
        height: int = 480,
        max_peers: int = 16,
        connect_timeout: float = 20.0,
    ) -> None:
        self.sources = SourceHub(width=width, height=height, fps=fps)
        self.peers = PeerRegistry(
            self.sources, max_peers=max_peers, connect_timeout=connect_timeout
        )

    async def close(self) -> None:
        """End every peer (reason "shutdown"), then stop the sources still held (recordings)."""
        await self.peers.close_all()
        await self.sources.close()


__all__ = ["Intercom", "Media", "PeerRegistry", "SourceHub", "set_consent_timing"]
