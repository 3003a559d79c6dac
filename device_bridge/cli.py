"""`python -m device_bridge enroll|run|info`: the bridge's command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from device_bridge.identity import EnrolmentError, NotEnrolled, enroll, load_bridge_id
from device_bridge.outbox import Outbox
from device_bridge.rules import load_stored
from device_bridge.runtime import Bridge
from device_bridge.settings import BridgeSettings, from_environ, load_config

_SECRET_PARTS = ("token", "signature", "key", "password", "secret")


def _drop_secrets(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for field in list(event):
        if any(part in field.lower() for part in _SECRET_PARTS) and field != "key_path":
            event[field] = "[redacted]"
    return event


def configure_logging(settings: BridgeSettings) -> None:
    """JSON (or console) log lines with dotted event names; secrets redacted by field name."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.log_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(settings.log_level.upper())
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m device_bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    enrol = sub.add_parser("enroll", help="register this bridge with a one-time token")
    enrol.add_argument("--token", required=True, help="the enrolment token from the platform")
    enrol.add_argument("--name", help="name shown on the platform (default: host name)")
    run = sub.add_parser("run", help="drive the devices and keep the link to the platform up")
    run.add_argument("--scenario", action="store_true", help="play simulated site traffic")
    run.add_argument("--rate", type=float, help="scenario actions per second")
    run.add_argument("--seed", type=int, help="random seed of the sim devices and scenario")
    run.add_argument(
        "--no-clock-sync", action="store_true", help="leave device clocks to the platform"
    )
    sub.add_parser("info", help="identity, configuration, outbox size and local rules")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    settings = from_environ()
    configure_logging(settings)
    try:
        if args.command == "enroll":
            result = asyncio.run(enroll(settings, token=args.token, name=args.name))
            print(f"enrolled: bridge {result.bridge_id} (community {result.community_id})")
        elif args.command == "run":
            bridge = Bridge(
                settings,
                scenario=args.scenario,
                scenario_rate=args.rate,
                seed=args.seed,
                clock_sync=not args.no_clock_sync,
            )
            asyncio.run(_run(bridge))
        else:
            asyncio.run(_info(settings))
    except EnrolmentError as err:
        print(f"enrolment failed: {err.message} ({err.code})", file=sys.stderr)
        return 1
    except (NotEnrolled, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


async def _run(bridge: Bridge) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bridge.stop()))
    await bridge.run()


async def _info(settings: BridgeSettings) -> None:
    try:
        bridge_id = load_bridge_id(settings)
    except NotEnrolled:
        bridge_id = "(not enrolled)"
    config = load_config(settings.config)
    print(f"bridge:    {bridge_id}")
    print(f"platform:  {settings.platform_url}  (link {settings.link_url})")
    print(f"key:       {settings.key_file}{'' if settings.key_file.exists() else ' (absent)'}")
    print(f"config:    {settings.config}  site {config.site.name!r}, {len(config.devices)} devices")
    if settings.outbox_file.exists():
        async with await Outbox.open(settings.outbox_file) as outbox:
            waiting, last = await outbox.count(), await outbox.last_seq()
            print(f"outbox:    {waiting} events waiting, last seq {last}")
    try:
        stored = load_stored(settings.rules_file)
    except ValueError as err:
        print(f"rules:     unreadable ({err}); the site file's baseline runs")
    else:
        if stored is not None:
            print(
                f"rules:     version {stored.version} from the platform, {len(stored.rules)} rules"
            )
        else:
            print(f"rules:     the site file's baseline, {len(config.rules)} rules")
