"""One bridge: the outbox, the drivers of the site's devices, the link, the local fail-safe rules,
the access decisions with their credential cache, the vehicle decisions at the lanes (from the
same cache: a camera's `plate.read` is decided here, `vehicles.py`), and optionally the scenario.

Used in-process (tests) as:

    bridge = Bridge(settings)  # reads settings.config unless given a SiteConfig
    task = asyncio.create_task(bridge.run())  # returns after bridge.stop() (or raises)
    await bridge.ready.wait()  # then bridge.sim is the SimDriver, for fault injection
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import structlog

from device_bridge.access import AccessControl
from device_bridge.access_cache import CredentialCache
from device_bridge.drivers.base import Driver
from device_bridge.drivers.sim import SimDriver
from device_bridge.identity import NotEnrolled, load_bridge_id, load_or_create_key
from device_bridge.link import Backoff, Link
from device_bridge.media import Media, set_consent_timing
from device_bridge.outbox import Outbox
from device_bridge.protocol import (
    Command,
    CommandResult,
    Credentials,
    CredentialsApplied,
    DeviceInfo,
    FaceApplied,
    FaceEnrol,
    FaceRemove,
)
from device_bridge.recognise import Recogniser, RecogniserUnavailable
from device_bridge.recognise import load as load_recogniser
from device_bridge.rules import ACTION_DEADLINE, RuleEngine
from device_bridge.scenario import Scenario
from device_bridge.settings import BridgeSettings, SiteConfig, load_config
from device_bridge.vehicles import VehicleControl

log = structlog.get_logger(__name__)

CLOCK_SYNC_THRESHOLD = 1.0  # seconds of device skew the bridge corrects by itself
CLOCK_SYNC_EVERY = 60.0
FACE_TIMEOUT = 15.0  # seconds a reader has to take (or delete) a face photo


def build_drivers(
    config: SiteConfig, *, seed: int | None = None, **sim_options: Any
) -> list[Driver]:
    """One driver per protocol used in the configuration."""
    drivers: list[Driver] = []
    sim = [d.info() for d in config.devices if d.driver == "sim"]
    if sim:
        drivers.append(SimDriver(sim, seed=seed, faults=config.faults, **sim_options))
    mqtt = [d.info() for d in config.devices if d.driver == "mqtt"]
    if mqtt and config.mqtt is not None:
        # Imported here: only sites with MQTT devices need aiomqtt.
        from device_bridge.drivers.mqtt import MqttDriver

        m = config.mqtt
        drivers.append(
            MqttDriver(
                mqtt,
                host=m.host,
                port=m.port,
                site=m.site,
                client_id=m.client_id,
                username=m.username,
                password=m.password,
            )
        )
    return drivers


class Bridge:
    """A running bridge; `run()` it as a task, `stop()` it, reach its sim driver as `sim`."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        config: SiteConfig | None = None,
        drivers: list[Driver] | None = None,
        scenario: bool = False,
        scenario_rate: float | None = None,
        seed: int | None = None,
        clock_sync: bool = True,
        rule_deadline: float = ACTION_DEADLINE,
        **sim_options: Any,
    ) -> None:
        self.settings = settings
        # A configuration read from the site file is watched for changes (`_watch_config`).
        self._config_digest = None if config is not None else _digest(settings.config)
        self.config = config if config is not None else load_config(settings.config)
        self._seed = seed
        # The WebRTC peers and device media sources, shared by the drivers; closed with the bridge.
        set_consent_timing(settings.media_consent_interval, settings.media_consent_failures)
        self.media = Media(
            fps=settings.media_fps,
            max_peers=settings.media_max_peers,
            connect_timeout=settings.media_connect_timeout,
        )
        sim_options = {
            "media": self.media,
            "ring_s": settings.ring_s,
            "clip_s": settings.clip_s,
            "call_max_s": settings.call_max_s,
            **sim_options,
        }
        self._sim_options = sim_options
        self.drivers = (
            drivers if drivers is not None else build_drivers(self.config, seed=seed, **sim_options)
        )
        self.scenario = (
            Scenario(
                self.sim,
                seed=self.config.scenario.seed if seed is None else seed,
                rate=scenario_rate or self.config.scenario.rate,
                doorbell=self.config.scenario.doorbell,
                doorbell_every=self.config.scenario.doorbell_every,
                vehicle_rate=self.config.scenario.vehicle_rate,
                plates=self.config.scenario.plates,
                visitor_plates=self.config.scenario.visitor_plates,
                blacklisted=self.config.scenario.blacklisted,
            )
            if scenario and self.sim is not None
            else None
        )
        self.clock_sync = clock_sync
        self.rule_deadline = rule_deadline
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._outbox: Outbox | None = None
        self._link: Link | None = None
        self._rules: RuleEngine | None = None
        self._access: AccessControl | None = None
        self._vehicles: VehicleControl | None = None
        self._started: list[Driver] = []  # the drivers running now, in start order
        self._faces_lock = asyncio.Lock()  # FIFO: face requests apply in the order they came

    @property
    def sim(self) -> SimDriver | None:
        """The sim driver, when the site has simulated devices."""
        return next((d for d in self.drivers if isinstance(d, SimDriver)), None)

    @property
    def outbox(self) -> Outbox:
        """The open outbox (after `ready`)."""
        if self._outbox is None:
            raise RuntimeError("the bridge is not running")
        return self._outbox

    @property
    def link(self) -> Link:
        """The platform link (after `ready`)."""
        if self._link is None:
            raise RuntimeError("the bridge is not running")
        return self._link

    @property
    def rules(self) -> RuleEngine:
        """The local fail-safe rules (after `ready`)."""
        if self._rules is None:
            raise RuntimeError("the bridge is not running")
        return self._rules

    @property
    def vehicles(self) -> VehicleControl:
        """The plate decisions at the lanes (after `ready`)."""
        if self._vehicles is None:
            raise RuntimeError("the bridge is not running")
        return self._vehicles

    @property
    def access(self) -> AccessControl:
        """The access decisions and their credential cache (after `ready`)."""
        if self._access is None:
            raise RuntimeError("the bridge is not running")
        return self._access

    async def run(self) -> None:
        """Open the outbox, start the drivers and the link; return after `stop()`."""
        if not self.settings.key_file.exists():
            raise NotEnrolled(f"no key at {self.settings.key_file}: enrol the bridge first")
        bridge_id = load_bridge_id(self.settings)
        key = load_or_create_key(self.settings.key_file)
        self._outbox = await Outbox.open(self.settings.outbox_file)
        self._rules = RuleEngine(
            self.settings.rules_file,
            execute=self.execute_local,
            emit=self.emit,
            baseline=[rule.rule() for rule in self.config.rules],
            deadline=self.rule_deadline,
        )
        cache = await CredentialCache.open(self.settings.credentials_file)
        self._link = Link(
            url=self.settings.link_url,
            bridge_id=bridge_id,
            key=key,
            outbox=self._outbox,
            inventory=self.inventory,
            on_command=self.execute,
            on_rules=self._rules.replace,
            on_credentials=self._apply_credentials,
            on_faces=self._apply_faces,
            clock_skews=self.clock_skews,
            heartbeat_interval=self.settings.heartbeat_interval,
            backoff=Backoff(self.settings.backoff_initial, self.settings.backoff_max),
        )
        self._access = AccessControl(
            cache,
            record=self.record,
            execute=self.execute_local,
            kinds=self._kind_of,
            query=self._link.query,
            clock=self._link.platform_time,
        )
        self._vehicles = VehicleControl(
            cache,
            record=self.record,
            record_once=self.record_once,
            execute=self.execute_local,
            devices=self.inventory,
            clock=self._link.platform_time,
            recogniser=self._recogniser(),
            recognise_below=self.config.site.recognise_below,
        )
        tasks: list[asyncio.Task[None]] = []
        try:
            await self._start_drivers()
            tasks.append(asyncio.create_task(self._link.run(), name="bridge-link"))
            if self.clock_sync:
                tasks.append(asyncio.create_task(self._sync_clocks(), name="bridge-clock-sync"))
            if self._config_digest is not None and self.settings.config_poll > 0:
                tasks.append(asyncio.create_task(self._watch_config(), name="bridge-config"))
            if self.scenario is not None:
                tasks.append(asyncio.create_task(self.scenario.run(), name="bridge-scenario"))
            stopper = asyncio.create_task(self._stop.wait())
            log.info("bridge.started", bridge_id=bridge_id, devices=len(self.inventory()))
            self.ready.set()
            done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            for task in done:
                if task is not stopper and not task.cancelled() and (err := task.exception()):
                    raise err
        finally:
            # The scenario first, the link last (it closes the WebSocket cleanly).
            for task in reversed(tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.media.close()  # peers end and report it while rules and outbox still run
            await self._rules.close()  # before the drivers stop and the outbox closes
            await self._vehicles.close()
            await self._stop_drivers()
            await self._outbox.close()
            await cache.close()
            self.ready.clear()
            log.info("bridge.stopped", bridge_id=bridge_id)

    def _recogniser(self) -> Recogniser | None:
        """The site's plate recogniser; none when off, or when it cannot be loaded (logged: the
        lanes go on with the cameras' reads)."""
        try:
            return load_recogniser(self.config.site.recogniser)
        except RecogniserUnavailable as err:
            log.error("bridge.recogniser.unavailable", error=str(err))
            return None

    async def stop(self) -> None:
        """Ask `run()` to finish: close the link, stop the drivers, close the outbox."""
        self._stop.set()

    async def emit(
        self,
        kind: str,
        device: str,
        data: dict[str, Any],
        at: float | None = None,
        *,
        key: str | None = None,
    ) -> None:
        """Commit an event to the outbox, wake the link's sender, and run the rules it fires.

        Returns after the commit. An event whose `key` the outbox already holds (a device's repeated
        delivery) is not stored again and fires nothing. A camera's plate read that carries no
        decision of its own is the bridge's to decide (`VehicleControl.read` records it).
        """
        if kind == "plate.read" and "decision" not in data and self._vehicles is not None:
            await self._vehicles.read(device, data, at, key=key)
            return
        if key is None:
            await self.record(kind, device, data, at)
        elif await self.record_once(key, kind, device, data, at) is None:
            return
        if kind in ("barrier.opened", "barrier.closed") and self._vehicles is not None:
            await self._vehicles.barrier_event(kind, device, data)  # VEH-12's watch

    async def record_once(
        self, key: str, kind: str, device: str, data: dict[str, Any], at: float | None = None
    ) -> int | None:
        """`record`, unless an event with this key (a device's repeated delivery) is held: None."""
        seq = await self.outbox.append_once(key, kind, device, at, data)
        if seq is None:
            log.info("bridge.event.repeated", device=device, kind=kind)
            return None
        self._committed(kind, device, data, seq)
        return seq

    async def record(
        self, kind: str, device: str, data: dict[str, Any], at: float | None = None
    ) -> int:
        """`emit`, returning the event's seq."""
        seq = await self.outbox.append(kind, device, at, data)
        self._committed(kind, device, data, seq)
        return seq

    def _committed(self, kind: str, device: str, data: dict[str, Any], seq: int) -> None:
        """Wake the link's sender and run the rules the committed event fires."""
        if self._link is not None:
            self._link.notify()
        if self._rules is not None:
            self._rules.submit(kind, device, data, seq=seq)  # in the background, link or not

    async def _apply_credentials(self, frame: Credentials) -> CredentialsApplied:
        """Apply the platform's credential set or delta; ok=False asks it for a full set."""
        # Every event up to the first still in the outbox is committed on the platform.
        first = await self.outbox.pending(limit=1)
        acked = first[0].seq - 1 if first else await self.outbox.last_seq()
        ok = await self.access.cache.apply(frame, acked=acked)
        if ok and self._vehicles is not None:  # a car park's spaces may have come (VEH-22)
            try:
                await self._vehicles.show_all_standing()
            except Exception:  # a display's fault must not refuse the set
                log.exception("bridge.lane.standing_failed")
        return CredentialsApplied(version=self.access.cache.version, ok=ok)

    async def _apply_faces(self, frame: FaceEnrol | FaceRemove) -> FaceApplied:
        """Put a face on (or take it off) each reader named, one request after another in the
        order the platform sent them; each door's own answer is what the platform is told."""
        async with self._faces_lock:
            action: Literal["enrol", "remove"] = "enrol"
            if isinstance(frame, FaceEnrol):
                args: dict[str, Any] = {
                    "face": frame.face,
                    "photo": frame.photo,
                    "content_type": frame.content_type,
                }
            else:
                action, args = "remove", {"face": frame.face}
            results = await asyncio.gather(
                *(
                    self.execute_local(door, f"face.{action}", args, timeout=FACE_TIMEOUT)
                    for door in frame.doors
                )
            )
        failed = {
            door: f"{r.status}: {r.detail}" if r.detail else r.status
            for door, r in zip(frame.doors, results, strict=True)
            if r.status != "ok"
        }
        log.info("bridge.faces.applied", request=frame.id, action=action, failed=len(failed))
        return FaceApplied(
            id=frame.id,
            face=frame.face,
            action=action,
            done=[d for d in frame.doors if d not in failed],
            failed=failed,
        )

    async def execute(self, command: Command) -> CommandResult:
        """Route a command to the driver of its device (unknown device → failed)."""
        now = self._link.platform_time() if self._link is not None else time.time()
        for driver in self.drivers:
            if driver.handles(command.device):
                if self._vehicles is not None:
                    self._vehicles.commanding(command.device, command.action)
                result = await driver.execute(command, now=now)
                if self._vehicles is not None:
                    await self._vehicles.commanded(
                        command.device, command.action, result.status, result.detail or ""
                    )
                return result
        log.warning("bridge.command.unknown_device", command_id=command.id, device=command.device)
        return CommandResult(id=command.id, status="failed", detail="unknown device")

    async def execute_local(
        self, device: str, action: str, args: dict[str, Any], timeout: float = 5.0
    ) -> CommandResult:
        """Run a command the bridge decided on itself (a rule, a clock sync) within `timeout` s."""
        now = self._link.platform_time() if self._link is not None else time.time()
        command = Command(
            id=f"local-{uuid.uuid4().hex[:12]}",
            device=device,
            action=action,
            args=args,
            deadline=now + timeout,
        )
        return await self.execute(command)

    def _kind_of(self, device: str) -> str | None:
        return next((d.kind for d in self.inventory() if d.id == device), None)

    async def _watch_config(self) -> None:
        """Look at the site file every `config_poll` seconds; apply a change (`reload`).

        A file that does not parse or validate is logged and left alone: the bridge keeps the
        configuration it runs, and looks again once the file changes once more.
        """
        path = self.settings.config
        while True:
            await asyncio.sleep(self.settings.config_poll)
            digest = _digest(path)
            if digest is None or digest == self._config_digest:
                continue
            self._config_digest = digest
            try:
                config = load_config(path)
            except (OSError, ValueError) as err:
                log.error("bridge.config.invalid", path=str(path), error=str(err)[:300])
                continue
            await self.reload(config)

    async def reload(self, config: SiteConfig) -> None:
        """Run a changed site configuration and send the platform the new inventory.

        Names and attributes (placement: building, unit, role) change in place. Devices added or
        removed, a device's kind or driver changed, or a new `[mqtt]` section restart the drivers
        with the new set (calls and views in progress end as `network`, as at a restart). Rules in
        the file are the baseline only until the platform's arrive; they are not reloaded.
        """
        shape = {(d.id, d.kind, d.driver) for d in config.devices}
        running = {(d.id, d.kind, d.driver) for d in self.inventory()}
        if shape != running or config.mqtt != self.config.mqtt:
            restart = bool(self._started)
            await self._stop_drivers()
            self.drivers = build_drivers(config, seed=self._seed, **self._sim_options)
            if restart:
                await self._start_drivers()
        else:
            entries = {d.id: d for d in config.devices}
            for device in self.inventory():
                entry = entries[device.id]
                device.name, device.attrs = entry.name, dict(entry.attrs)
        self.config = config
        log.info("bridge.config.reloaded", devices=len(config.devices))
        if self._link is not None:
            await self._link.send_inventory()

    async def _start_drivers(self) -> None:
        assert self._access is not None
        for driver in self.drivers:
            await driver.start(self.emit, self._access.present)
            self._started.append(driver)

    async def _stop_drivers(self) -> None:
        while self._started:
            await self._started.pop().stop()

    def inventory(self) -> list[DeviceInfo]:
        """Every device of every driver, with its online state."""
        return [device for driver in self.drivers for device in driver.inventory()]

    def clock_skews(self) -> dict[str, float]:
        """Device clock skews (device − bridge clock, seconds) for the heartbeat."""
        return {k: v for driver in self.drivers for k, v in driver.clock_skews().items()}

    async def _sync_clocks(self) -> None:
        """Set device clocks that drift more than a second to the platform's time (PLAT-15)."""
        link = self.link
        while True:
            await link.authenticated.wait()
            off = [
                d
                for d, s in self.clock_skews().items()
                if abs(s - link.skew) > CLOCK_SYNC_THRESHOLD
            ]
            await asyncio.gather(*(self._sync_clock(device) for device in off))
            await asyncio.sleep(CLOCK_SYNC_EVERY)

    async def _sync_clock(self, device: str) -> None:
        result = await self.execute_local(
            device, "time.sync", {"server_time": self.link.platform_time()}
        )
        log.info("bridge.clock.device_synced", device=device, status=result.status)


def _digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
