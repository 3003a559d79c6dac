"""Local fail-safe rules: a smoke alarm releases the doors and announces evacuation by itself, with
or without the platform; the platform's rule sets replace the baseline and survive restarts.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import msgspec
import pytest

from device_bridge import protocol as p
from device_bridge.runtime import Bridge
from device_bridge.settings import PACKAGE_DIR, BridgeSettings, load_config
from tests.device_bridge.fake_platform import FakePlatform
from tests.device_bridge.helpers import events_named, running

DEMO = load_config(PACKAGE_DIR / "demo.toml")
DOORS = [d.id for d in DEMO.devices if d.kind == "door_controller"]
SPEAKERS = [d.id for d in DEMO.devices if d.kind == "speaker"]
SMOKE = [d.id for d in DEMO.devices if d.kind == "smoke_sensor"]
EVACUATE = "火警，请从最近的安全出口有序疏散 / Fire alarm, please evacuate by the nearest exit"
SMOKE_ALARM = ("sensor.alarm", {"kind": "smoke"})

WATER_RULE = p.LocalRule(
    id="rule-water",
    when_kind="sensor.alarm",
    when_devices=["water-pump-room"],
    then=[p.RuleAction(device="speaker-north", action="broadcast", args={"text": "水泵房进水"})],
)


def unreachable_url() -> str:
    """A local address nothing listens on: every connection attempt is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def alone(bridge_settings: BridgeSettings) -> BridgeSettings:
    """The enrolled bridge's settings, pointed at a platform that is not there."""
    return msgspec.structs.replace(bridge_settings, platform_url=unreachable_url())


async def outbox_events(bridge: Bridge, kind: str | None = None) -> list[p.Event]:
    """Once no rule is firing: the events in the outbox (all of them with no platform to ack)."""
    await bridge.rules.wait_idle()
    events = await bridge.outbox.pending(limit=10_000)
    return [e for e in events if kind is None or e.kind == kind]


def state(bridge: Bridge, device: str) -> dict[str, Any]:
    """A simulated device's state."""
    assert bridge.sim is not None
    return bridge.sim.fleet.devices[device].state


def statuses(fired: dict[str, Any]) -> dict[str, str]:
    """Device → status, from a rule.fired event's results."""
    return {r["device"]: r["status"] for r in fired["results"]}


@pytest.mark.req("ACC-15", partial=True)
@pytest.mark.req("FIRE-13")
class TestFireAlarm:
    async def test_smoke_alarm_releases_every_door_and_announces_evacuation(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(bridge.link.authenticated.wait(), 5)
        assert bridge.sim is not None and all(state(bridge, d)["locked"] for d in DOORS)
        await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)
        await bridge.rules.wait_idle()

        assert all(not state(bridge, d)["locked"] and state(bridge, d)["held_open"] for d in DOORS)
        await platform.wait_for(
            lambda: any(e.kind == "rule.fired" for e in platform.events.values())
        )
        events = sorted(platform.events.values(), key=lambda e: e.seq)
        alarm = next(e for e in events if e.kind == "sensor.alarm")
        fired = next(e for e in events if e.kind == "rule.fired")
        assert fired.device == "smoke-1-1" and fired.seq > alarm.seq
        assert fired.data == {
            "rule": "local-fire-evacuation",
            "version": 0,
            "trigger": {"kind": "sensor.alarm", "device": "smoke-1-1", "seq": alarm.seq},
            "results": [
                {"device": d, "action": a, "status": "ok", "detail": ""}
                for d, a in [*((d, "unlock") for d in DOORS), *((s, "broadcast") for s in SPEAKERS)]
            ],
        }
        # What the devices reported while the rule ran reaches the platform before rule.fired.
        opened = {e.device: e.data for e in events if e.kind == "door.opened"}
        assert opened == {d: {"mode": "held", "reason": "fire"} for d in DOORS}
        played = {e.device: e.data["text"] for e in events if e.kind == "broadcast.played"}
        assert played == dict.fromkeys(SPEAKERS, EVACUATE)
        assert max(e.seq for e in events if e.kind != "rule.fired") < fired.seq

    @pytest.mark.req("PLAT-18")
    async def test_works_with_no_platform_at_all(self, alone: BridgeSettings) -> None:
        async with running(alone) as bridge:
            assert bridge.sim is not None
            await bridge.sim.trigger("smoke-2-1", *SMOKE_ALARM)
            [fired] = await outbox_events(bridge, "rule.fired")
            assert not bridge.link.authenticated.is_set() and bridge.link.sessions == 0
        assert fired.data["trigger"]["device"] == "smoke-2-1"
        assert statuses(fired.data) == dict.fromkeys([*DOORS, *SPEAKERS], "ok")
        assert all(not state(bridge, d)["locked"] for d in DOORS)

    async def test_the_control_room_can_release_and_relock_a_door(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        """Manual forced opening for rescue: unlock holds the door open until lock."""
        await asyncio.wait_for(platform.connected.wait(), 5)
        result = await platform.command("door-3-2", "unlock", {"reason": "rescue"})
        assert result.status == "ok" and result.data["held_open"] is True
        await asyncio.sleep(0.2)  # longer than a momentary opening (0.05 s here)
        assert state(bridge, "door-3-2")["door"] == "open"
        assert (await platform.command("door-3-2", "lock")).status == "ok"
        assert state(bridge, "door-3-2")["locked"] is True


class TestFiring:
    async def test_an_offline_or_silent_device_fails_and_the_others_still_run(
        self, alone: BridgeSettings
    ) -> None:
        async with running(alone, rule_deadline=0.3) as bridge:
            assert bridge.sim is not None
            await bridge.sim.set_fault("speaker-square", offline=True)
            await bridge.sim.set_fault("door-2-2", drop=True)
            started = time.monotonic()
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)
            [fired] = await outbox_events(bridge, "rule.fired")
            took = time.monotonic() - started
        results = {r["device"]: r for r in fired.data["results"]}
        assert results["speaker-square"]["status"] == "failed"
        assert "offline" in results["speaker-square"]["detail"]
        assert results["door-2-2"]["status"] == "timeout"
        assert {d for d, r in results.items() if r["status"] == "ok"} == {
            *DOORS,
            *SPEAKERS,
        } - {"speaker-square", "door-2-2"}
        assert took < 0.8  # the actions ran together, each bounded by the 0.3 s deadline

    async def test_not_again_for_the_same_device_while_it_runs(self, alone: BridgeSettings) -> None:
        async with running(alone) as bridge:
            assert bridge.sim is not None
            await bridge.sim.set_fault("speaker-north", delay_ms=300)
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)  # still running: skipped
            await bridge.sim.trigger("smoke-2-1", *SMOKE_ALARM)  # another sensor: fires
            first = await outbox_events(bridge, "rule.fired")
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)  # done: fires again
            second = await outbox_events(bridge, "rule.fired")
        assert sorted(e.device for e in first) == ["smoke-1-1", "smoke-2-1"]
        assert [e.device for e in second[2:]] == ["smoke-1-1"]


class TestNoLoops:
    async def test_events_caused_by_rules_and_rule_fired_trigger_nothing(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        bridge.rules.echo_window = 0.0  # only what the actions' tasks report counts as their echo
        rules = [
            p.LocalRule(  # every door opening releases two others, opens one, announces it
                id="on-door",
                when_kind="door.opened",
                then=[
                    p.RuleAction(device="door-1-1", action="unlock"),
                    p.RuleAction(device="door-2-1", action="unlock"),
                    p.RuleAction(device="door-2-2", action="open"),  # closes by itself, later
                    p.RuleAction(device="speaker-north", action="broadcast", args={"text": "开门"}),
                ],
            ),
            p.LocalRule(
                id="on-closed",
                when_kind="door.closed",
                when_devices=["door-2-2"],
                then=[p.RuleAction(device="door-3-2", action="unlock")],
            ),
            p.LocalRule(
                id="on-fired",
                when_kind="rule.fired",
                then=[
                    p.RuleAction(device="speaker-square", action="broadcast", args={"text": "x"})
                ],
            ),
            p.LocalRule(
                id="on-broadcast",
                when_kind="broadcast.played",
                then=[p.RuleAction(device="door-3-2", action="unlock")],
            ),
        ]
        await platform.send_rules(1, rules)
        await platform.wait_for(lambda: platform.rules_applied == [1])
        assert bridge.sim is not None
        await bridge.sim.present_credential("door-3-1", method="card", person="p-1", granted=True)
        await asyncio.sleep(0.3)  # door-3-1 and door-2-2 close by themselves; a loop would show
        await bridge.rules.wait_idle()
        last = await bridge.outbox.last_seq()
        await platform.wait_for(lambda: platform.last_seq == last)

        events = sorted(platform.events.values(), key=lambda e: e.seq)
        fired = [e for e in events if e.kind == "rule.fired"]
        assert [(e.data["rule"], e.device) for e in fired] == [("on-door", "door-3-1")]
        assert set(statuses(fired[0].data).values()) == {"ok"}
        opened = sorted(e.device for e in events if e.kind == "door.opened")
        assert opened == ["door-1-1", "door-2-1", "door-2-2", "door-3-1"]  # each once
        assert sorted(e.device for e in events if e.kind == "door.closed") == [
            "door-2-2",
            "door-3-1",
        ]
        assert state(bridge, "door-3-2")["locked"] is True
        assert not [
            e for e in events if e.kind == "broadcast.played" and e.device != "speaker-north"
        ]

    async def test_a_report_from_a_device_a_rule_acts_on_is_its_echo(
        self, alone: BridgeSettings
    ) -> None:
        """Drivers that report from their own reader (MQTT): the device's events are echoes."""
        rule = p.LocalRule(
            id="relay",
            when_kind="door.opened",
            when_devices=["door-3-1", "door-1-1"],
            then=[p.RuleAction(device="door-1-1", action="unlock")],
        )
        async with running(alone) as bridge:
            sim = bridge.sim
            assert sim is not None
            await bridge.rules.replace(p.Rules(version=1, rules=[rule]))
            bridge.rules.echo_window = 0.3
            await sim.set_fault("door-1-1", delay_ms=300)
            await sim.trigger("door-3-1", "door.opened", {"mode": "momentary"})
            await asyncio.sleep(0.1)
            # As an MQTT door would: reported from outside the action, while it runs …
            await sim.trigger("door-1-1", "door.opened", {"mode": "held"})
            await bridge.rules.wait_idle()
            # … and just after it.
            await sim.trigger("door-1-1", "door.opened", {"mode": "held"})
            assert len(await outbox_events(bridge, "rule.fired")) == 1
            await asyncio.sleep(0.35)  # the echo window has passed: a new opening is real
            await sim.trigger("door-1-1", "door.opened", {"mode": "held"})
            fired = await outbox_events(bridge, "rule.fired")
        assert [e.device for e in fired] == ["door-3-1", "door-1-1"]


class TestRuleSets:
    async def test_a_new_set_replaces_the_baseline_and_is_acknowledged(
        self, bridge: Bridge, platform: FakePlatform, bridge_settings: BridgeSettings
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        assert (bridge.rules.version, bridge.rules.source) == (0, "local")
        await platform.send_rules(3, [WATER_RULE])
        await platform.wait_for(lambda: platform.rules_applied == [3])
        assert (bridge.rules.version, bridge.rules.source) == (3, "platform")
        stored = json.loads(bridge_settings.rules_file.read_text())
        assert stored["version"] == 3 and [r["id"] for r in stored["rules"]] == ["rule-water"]

        assert bridge.sim is not None
        await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)  # the baseline no longer runs
        await bridge.sim.trigger("water-pump-room", "sensor.alarm", {"kind": "water"})
        await bridge.rules.wait_idle()
        await platform.wait_for(
            lambda: any(e.kind == "rule.fired" for e in platform.events.values())
        )
        fired = [e for e in platform.events.values() if e.kind == "rule.fired"]
        assert [(e.data["rule"], e.data["version"]) for e in fired] == [("rule-water", 3)]
        assert all(state(bridge, d)["locked"] for d in DOORS)

    async def test_an_empty_set_from_the_platform_turns_the_baseline_off(
        self, bridge: Bridge, platform: FakePlatform
    ) -> None:
        await asyncio.wait_for(platform.connected.wait(), 5)
        await platform.send_rules(2, [])
        await platform.wait_for(lambda: platform.rules_applied == [2])
        assert bridge.sim is not None
        await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)
        await bridge.rules.wait_idle()
        assert bridge.rules.rules == [] and all(state(bridge, d)["locked"] for d in DOORS)

    @pytest.mark.req("PLAT-18")
    async def test_the_set_survives_a_restart_without_a_link(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        async with running(bridge_settings):
            await asyncio.wait_for(platform.connected.wait(), 5)
            await platform.send_rules(4, [WATER_RULE])
            await platform.wait_for(lambda: platform.rules_applied == [4])
        await platform.stop()
        async with running(bridge_settings) as bridge:
            assert (bridge.rules.version, bridge.rules.source) == (4, "platform")
            assert bridge.sim is not None
            await bridge.sim.trigger("water-pump-room", "sensor.alarm", {"kind": "water"})
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)
            fired = await outbox_events(bridge, "rule.fired")
            played = await outbox_events(bridge, "broadcast.played")
            assert not bridge.link.authenticated.is_set()
        assert [(e.data["rule"], e.data["version"]) for e in fired] == [("rule-water", 4)]
        assert [(e.device, e.data["text"]) for e in played] == [("speaker-north", "水泵房进水")]

    async def test_the_platform_sends_its_set_after_every_welcome(
        self, bridge_settings: BridgeSettings, platform: FakePlatform
    ) -> None:
        platform.rules = p.Rules(version=7, rules=[WATER_RULE])
        async with running(bridge_settings) as bridge:
            await platform.wait_for(lambda: platform.rules_applied == [7])
            assert bridge.rules.version == 7
            await platform.kick()
            await platform.wait_for(lambda: platform.rules_applied == [7, 7])

    async def test_an_unreadable_file_runs_the_baseline_and_a_set_not_stored_is_not_acknowledged(
        self,
        logs: list[MutableMapping[str, Any]],
        bridge_settings: BridgeSettings,
        platform: FakePlatform,
    ) -> None:
        bridge_settings.rules_file.mkdir(parents=True)  # neither readable nor replaceable
        async with running(bridge_settings) as bridge:
            assert events_named(logs, "bridge.rules.unreadable")
            assert (bridge.rules.version, bridge.rules.source) == (0, "local")
            await asyncio.wait_for(platform.connected.wait(), 5)
            await platform.send_rules(5, [WATER_RULE])
            await platform.wait_for(lambda: events_named(logs, "bridge.rules.not_applied"))
            assert platform.rules_applied == [] and bridge.rules.version == 0
            assert bridge.link.authenticated.is_set()  # the link stays up
            assert bridge.sim is not None
            await bridge.sim.trigger("smoke-1-1", *SMOKE_ALARM)  # the baseline still runs
            await bridge.rules.wait_idle()
            assert all(not state(bridge, d)["locked"] for d in DOORS)
        assert not list(bridge_settings.data_dir.glob(".rules.json.*"))  # no temporary left


class TestSiteFile:
    def test_the_demo_baseline_covers_every_door_and_speaker(self) -> None:
        [rule] = [r.rule() for r in DEMO.rules]
        assert (rule.when_kind, sorted(rule.when_devices)) == ("sensor.alarm", sorted(SMOKE))
        assert sorted(a.device for a in rule.then if a.action == "unlock") == sorted(DOORS)
        broadcasts = {a.device: a.args["text"] for a in rule.then if a.action == "broadcast"}
        assert broadcasts == dict.fromkeys(SPEAKERS, EVACUATE)

    @pytest.mark.parametrize(
        ("rule", "error"),
        [
            (
                'when_kind = "sensor.alarm"\nthen = [{ device = "door-9", action = "unlock" }]',
                "unknown",
            ),
            ('when_kind = "sensor.alarm"\nthen = [{ device = "spk", action = "open" }]', "support"),
            ('when_kind = "sensor.alarm"\nwhen_device = ["smoke"]\nthen = []', "when_device"),
            ('when_kind = "sensor.alarm"\nthen = []', "no actions"),
        ],
    )
    def test_a_rule_that_could_not_run_is_refused(
        self, tmp_path: Path, rule: str, error: str
    ) -> None:
        site = tmp_path / "site.toml"
        site.write_text(
            '[[devices]]\nid = "smoke"\nkind = "smoke_sensor"\nname = "烟感"\n'
            '[[devices]]\nid = "spk"\nkind = "speaker"\nname = "广播"\n'
            f'[[rules]]\nid = "r"\n{rule}\n'
        )
        with pytest.raises(ValueError, match=error):
            load_config(site)
