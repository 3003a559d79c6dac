"""Local fail-safe rules: what the bridge does by itself when a device reports an event (6.5.17).

The platform pushes its complete set of fail-safe rules (`protocol.Rules`); the bridge stores it in
`<data dir>/rules.json` (written atomically) and runs it on every event it emits — with or without
a link, and after a restart with no link. Until the platform has sent a set, the site file's
`[[rules]]` are the operator's local baseline (version 0).

A rule firing runs all its actions at once through the runtime's command path, each with a short
deadline, and records one `rule.fired` event with every action's outcome. Loops are cut twice over:
events of kind `rule.fired` never trigger a rule, and neither do events a rule action caused: those
a driver reports while running the action (traced through a context variable) and, for drivers that
report from their own reader task (MQTT), any event from a device while a rule acts on it and for
`ECHO_WINDOW` seconds after.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import structlog

from device_bridge.protocol import CommandResult, LocalRule, RuleAction, Rules

log = structlog.get_logger(__name__)

FIRED = "rule.fired"
ACTION_DEADLINE = 5.0  # seconds each action may take
ECHO_WINDOW = 2.0  # seconds after an action during which its device's events trigger no rule
TRACE_HORIZON = 60.0  # seconds after a firing starts that events traced to it trigger no rule
STOP_GRACE = 1.0  # seconds `close()` lets running firings finish (and record rule.fired)

Execute = Callable[[str, str, dict[str, Any], float], Awaitable[CommandResult]]
"""Run an action: (device, action, args, timeout in seconds) → the driver's CommandResult."""
EmitEvent = Callable[[str, str, dict[str, Any]], Awaitable[None]]
"""Commit an event to the outbox: (kind, device, data)."""

# When the firing whose task this is started (monotonic). The tasks of its actions, and any timer
# a driver starts from them, inherit it: an event a driver reports there is the rule's echo. Bounded
# by TRACE_HORIZON: a long-lived task a driver happened to start there cannot mute rules for good.
_firing_since: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "anju_bridge_firing_since", default=None
)


class StoredRules(msgspec.Struct, kw_only=True):
    """The contents of rules.json: the platform's latest set, as applied."""

    version: int
    rules: list[LocalRule]
    stored_at: float = 0.0


def load_stored(path: Path) -> StoredRules | None:
    """The stored set, or None when the platform never sent one; ValueError when unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ValueError(f"{path}: {err}") from err
    try:
        return msgspec.json.decode(raw, type=StoredRules)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise ValueError(f"{path}: {err}") from err


def _write_atomically(path: Path, data: bytes) -> None:
    """Write, fsync, rename over `path`, fsync the directory: old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RuleEngine:
    """Runs the local rules on the bridge's events; `replace()` takes the platform's new set."""

    def __init__(
        self,
        path: Path,
        *,
        execute: Execute,
        emit: EmitEvent,
        baseline: Sequence[LocalRule] = (),
        deadline: float = ACTION_DEADLINE,
        echo_window: float = ECHO_WINDOW,
    ) -> None:
        self.path = path
        self.deadline = deadline
        self.echo_window = echo_window
        self._execute = execute
        self._emit = emit
        self.version = 0
        self.source = "local"  # "local": the site file's baseline; "platform": rules.json
        self.rules: list[LocalRule] = list(baseline)
        self._lock = asyncio.Lock()
        self._running: set[tuple[str, str]] = set()  # (rule id, trigger device) firing now
        self._acting: Counter[str] = Counter()  # devices a rule action is running on
        self._settle: dict[str, float] = {}  # device → monotonic time its echoes end
        self._tasks: set[asyncio.Task[Any]] = set()
        self._load()

    def _load(self) -> None:
        try:
            stored = load_stored(self.path)
        except ValueError as err:
            # Running the baseline beats running nothing; the platform's next set overwrites it.
            log.error("bridge.rules.unreadable", path=str(self.path), error=str(err))
            stored = None
        if stored is not None:
            self.version, self.rules, self.source = stored.version, stored.rules, "platform"
        log.info(
            "bridge.rules.loaded", version=self.version, rules=len(self.rules), source=self.source
        )

    # -- the set ----------------------------------------------------------------------------------

    async def replace(self, frame: Rules) -> None:
        """Store the platform's set in rules.json, then run it; on an OSError, keep the old one."""
        async with self._lock:
            ids = [r.id for r in frame.rules]
            if len(set(ids)) != len(ids):
                log.warning("bridge.rules.duplicate_ids", version=frame.version)
            stored = StoredRules(version=frame.version, rules=frame.rules, stored_at=time.time())
            data = msgspec.json.format(msgspec.json.encode(stored), indent=2)
            try:
                await asyncio.to_thread(_write_atomically, self.path, data)
            except OSError as err:
                log.error("bridge.rules.store_failed", version=frame.version, error=str(err))
                raise
            previous = self.version
            self.version, self.rules, self.source = frame.version, list(frame.rules), "platform"
        log.info("bridge.rules.replaced", version=frame.version, previous=previous, rules=len(ids))

    def matching(self, kind: str, device: str) -> list[LocalRule]:
        """The rules an event of `kind` from `device` fires (ignoring what is already running)."""
        if kind == FIRED:
            return []
        return [
            r
            for r in self.rules
            if r.when_kind == kind and (not r.when_devices or device in r.when_devices)
        ]

    def caused_by_rule(self, device: str) -> bool:
        """Whether an event from `device`, reported now, is an echo of a rule's action."""
        now = time.monotonic()
        since = _firing_since.get()
        if since is not None and now - since < TRACE_HORIZON:
            return True
        return self._acting[device] > 0 or self._settle.get(device, 0.0) > now

    # -- events -----------------------------------------------------------------------------------

    def submit(
        self, kind: str, device: str, data: dict[str, Any], *, seq: int | None = None
    ) -> None:
        """For the runtime: run the matching rules in the background; returns at once."""
        if self.matching(kind, device) and not self.caused_by_rule(device):
            self._track(asyncio.create_task(self.on_event(kind, device, data, seq=seq)))

    async def on_event(
        self, kind: str, device: str, data: dict[str, Any], *, seq: int | None = None
    ) -> list[dict[str, Any]]:
        """Fire every matching rule concurrently; the `rule.fired` data of each. Never raises."""
        if self.caused_by_rule(device):
            return []
        firings = []
        for rule in self.matching(kind, device):
            key = (rule.id, device)
            if key in self._running:
                log.info("bridge.rules.still_running", rule=rule.id, device=device, kind=kind)
                continue
            self._running.add(key)
            trigger: dict[str, Any] = {"kind": kind, "device": device, "seq": seq}
            firings.append(self._track(asyncio.create_task(self._fire(rule, trigger))))
        return list(await asyncio.gather(*firings)) if firings else []

    async def _fire(self, rule: LocalRule, trigger: dict[str, Any]) -> dict[str, Any]:
        _firing_since.set(time.monotonic())  # this task's own context; its actions inherit it
        version = self.version
        try:
            results = await asyncio.gather(*(self._act(a) for a in rule.then))
            fired = {"rule": rule.id, "version": version, "trigger": trigger, "results": results}
            failed = [r["device"] for r in results if r["status"] != "ok"]
            log_fired = log.warning if failed else log.info
            log_fired(
                "bridge.rules.fired",
                rule=rule.id,
                device=trigger["device"],
                kind=trigger["kind"],
                actions=len(results),
                failed=failed or None,
            )
            try:
                await self._emit(FIRED, trigger["device"], fired)
            except Exception:
                log.exception("bridge.rules.not_recorded", rule=rule.id)
            return fired
        finally:
            self._running.discard((rule.id, trigger["device"]))

    async def _act(self, action: RuleAction) -> dict[str, Any]:
        device = action.device
        self._acting[device] += 1
        try:
            # The driver answers at the deadline; the outer bound only guards against a bug.
            async with asyncio.timeout(self.deadline + 1.0):
                result = await self._execute(
                    device, action.action, dict(action.args), self.deadline
                )
            status, detail = result.status, result.detail
        except TimeoutError:
            status, detail = "timeout", "no answer before the deadline"
        except Exception as err:
            log.exception("bridge.rules.action_crashed", device=device, action=action.action)
            status, detail = "failed", f"internal error: {type(err).__name__}"
        finally:
            self._acting[device] -= 1
            if self._acting[device] <= 0:
                del self._acting[device]
            self._settle[device] = time.monotonic() + self.echo_window
        return {"device": device, "action": action.action, "status": status, "detail": detail}

    # -- lifecycle --------------------------------------------------------------------------------

    def _track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self) -> None:
        """Wait until no rule is firing (and every firing has recorded its rule.fired)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace: float = STOP_GRACE) -> None:
        """Let running firings finish for up to `grace` seconds, then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.wait_idle()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
