"""The `anju` command: demo, serve, worker, migrate, openapi, createadmin, audit, keys."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from api.settings import Settings, export, get_settings

T = TypeVar("T")
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


@contextlib.contextmanager
def _services(settings: Settings) -> Iterator[Settings]:
    """The configured services, embedded engines standing in for any that are not configured."""
    from api.core.embedded import embedded_services

    with embedded_services(settings) as resolved:
        export(resolved)  # children (worker) and later imports see the same URLs
        yield resolved


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def _with_db(settings: Settings, fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn` with the database open and the audit log hashing as the settings say."""
    from api.audit import service as audit
    from api.core import db

    audit.configure(settings.crypto)
    async with db.database(settings.database_url or ""):
        return await fn()


def cmd_migrate(_: argparse.Namespace) -> int:
    """Apply pending migrations."""
    from api.core import db

    with _services(get_settings()) as settings:
        _run(db.migrate(settings.database_url or ""))
    print("migrations applied")
    return 0


def openapi_document() -> bytes:
    """The OpenAPI document of the app, as committed in openapi/openapi.json."""
    from api.app import create_app

    settings = msgspec.structs.replace(get_settings(), redis_url="redis://127.0.0.1:6379/0")
    schema = create_app(settings).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True).encode() + b"\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    """Write openapi/openapi.json (or, with --check, fail when it is stale)."""
    document = openapi_document()
    if args.check:
        stale = not OPENAPI_PATH.exists() or OPENAPI_PATH.read_bytes() != document
        print(
            "openapi/openapi.json is stale: run `anju openapi`" if stale else "openapi up to date"
        )
        return 1 if stale else 0
    OPENAPI_PATH.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI_PATH.write_bytes(document)
    print(f"wrote {OPENAPI_PATH}")
    return 0


def _serve(settings: Settings) -> None:
    import uvicorn

    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The client address (rate limits, audit) comes from X-Forwarded-For only behind these.
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        # Shutdown ends in seconds, whatever a request or a socket is still waiting for.
        timeout_graceful_shutdown=5,
    )


def cmd_serve(_: argparse.Namespace) -> int:
    """Run the API (migrations first)."""
    from api.core import db

    with _services(get_settings()) as settings:
        _run(db.migrate(settings.database_url or ""))
        _serve(settings)
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    """Run the arq worker."""
    from arq import run_worker

    from workers.settings import WorkerSettings, redis_settings

    run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=redis_settings(),
        queue_name=get_settings().queue_name,
    )
    return 0


def _start_bridge(settings: Settings, token: str | None) -> subprocess.Popen[bytes]:
    """The demo site's bridge as its own process: enrol once, then simulate devices and traffic."""
    env = {
        **os.environ,
        "ANJU_BRIDGE_PLATFORM_URL": f"http://{settings.host}:{settings.port}",
        "ANJU_BRIDGE_DATA_DIR": str(settings.data_dir / "bridge"),
        "ANJU_BRIDGE_NAME": "锦城花园 demo site",
        "ANJU_DEMO_ENROLMENT_TOKEN": token or "",  # in the environment, not in `ps` output
    }
    python = shlex.quote(sys.executable)
    run = f"exec {python} -m device_bridge run --scenario"
    if token:  # the platform must answer before the bridge can enrol: retry until it does
        enrol = f'{python} -m device_bridge enroll --token "$ANJU_DEMO_ENROLMENT_TOKEN"'
        run = f"until {enrol} >/dev/null 2>&1; do sleep 1; done; {run}"
    return subprocess.Popen(["/bin/sh", "-c", run], env=env)  # noqa: S603


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    if process.poll() is None:
        process.kill()


def cmd_demo(_: argparse.Namespace) -> int:
    """Everything on embedded engines (or the configured services), with a seeded demo community."""
    from api import demo
    from api.access import credential_keys
    from api.core import db
    from api.lifespan import make_cipher

    with _services(get_settings()) as settings:
        _run(db.migrate(settings.database_url or ""))
        cipher = make_cipher(settings)
        credential_keys.configure(settings)  # the seed creates credentials
        enrolled = (settings.data_dir / "bridge" / "identity.json").exists()

        async def seed() -> tuple[list[tuple[str, str, str, str | None]], str | None]:
            await demo.seed(cipher)
            return await demo.logins(cipher), None if enrolled else await demo.bridge_token()

        logins, token = _run(_with_db(settings, seed))
        children = [
            subprocess.Popen([sys.executable, "-m", "api.cli", "worker"]),
            _start_bridge(settings, token),
        ]
        url = f"http://{settings.host}:{settings.port}/"
        print(f"\n安居 Anju demo running at {url}\n")
        print(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, role, _password, uri in logins:
            second = f"TOTP: {uri}" if uri else "(no second factor)"
            print(f"  {username:<12} {role:<18} {second}")
        print("", *demo.access_notes(), sep="\n")
        print("\nA bridge simulates the site's devices and traffic.")
        print(
            "Ctrl-C stops everything; data stays in", settings.data_dir.resolve(), "\n", flush=True
        )
        try:
            # a local demo has no SMS gateway: the console sender logs the join codes it "sends"
            _serve(msgspec.structs.replace(settings, sms_console_reveal=True))
        finally:
            for child in reversed(children):
                _stop(child)
    return 0


def cmd_bridge(args: argparse.Namespace) -> int:
    """Run the site bridge (`python -m device_bridge`), a program that never imports api/."""
    os.execv(sys.executable, [sys.executable, "-m", "device_bridge", *args.bridge_args])  # noqa: S606
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    """Create one of the three administrators (the only way to make one); print a one-time
    password, which must be changed at the first login, and the TOTP URI."""
    import pyotp

    from api.accounts.tables import Account, RoleAssignment
    from api.audit.service import record
    from api.core.auth import ADMINISTRATORS, Role
    from api.core.passwords import hash_password
    from api.lifespan import make_cipher
    from api.piccolo_conf import DB

    role = Role(args.role)
    if role not in ADMINISTRATORS:
        print(f"--role must be one of {sorted(ADMINISTRATORS)}", file=sys.stderr)
        return 2
    password = secrets.token_urlsafe(12) + "-Aa1"
    totp = pyotp.random_base32()
    with _services(get_settings()) as settings:
        cipher = make_cipher(settings)

        async def create() -> bool:
            if await Account.exists().where(Account.username == args.username):
                return False
            async with DB.transaction():
                account = Account(
                    username=args.username,
                    display_name=args.username,
                    password_hash=hash_password(password),
                    must_change_password=True,
                    totp_secret=cipher.encrypt(totp, context="accounts.totp_secret"),
                    totp_confirmed=True,
                )
                await account.save()
                await RoleAssignment(account=account.id, role=role).save()
                await record(
                    "account.created",
                    actor_name="anju createadmin",
                    target_type="account",
                    target_id=account.id,
                    details={"role": role.value},
                )
            return True

        if not _run(_with_db(settings, create)):
            print(f"user {args.username!r} exists", file=sys.stderr)
            return 1
    print(f"created {role.value} {args.username!r}")
    print(f"  one-time password (to be changed at the first login): {password}")
    print(
        f"  TOTP: {pyotp.TOTP(totp).provisioning_uri(name=args.username, issuer_name='安居 Anju')}"
    )
    return 0


def cmd_audit_verify(_: argparse.Namespace) -> int:
    """Walk the audit hash chain and check its anchors; exit 1 and name what does not fit."""
    from api.audit.anchors import AnchorCheck, anchor_key, verify_anchors
    from api.audit.service import VerifyResult, verify
    from api.core.storage import open_object_store

    with _services(get_settings()) as settings:

        async def check() -> tuple[VerifyResult, AnchorCheck]:
            async with open_object_store(settings) as store:
                key = anchor_key(settings.audit_anchor_key_path)
                return await verify(), await verify_anchors(store, key)

        result, anchors = _run(_with_db(settings, check))
    if not result.ok:
        print(
            f"audit log BROKEN at entry {result.broken_id}: {result.reason} "
            f"({result.checked} entries before it are intact)"
        )
    for problem in anchors.problems:
        print(f"audit log BROKEN: {problem}")
    if not (result.ok and anchors.ok):
        return 1
    newest = anchors.newest
    anchored = f", newest at entry {newest.seq} ({newest.at:%Y-%m-%d %H:%M:%S})" if newest else ""
    print(
        f"audit log intact: {result.checked} entries; "
        f"{anchors.checked} anchors hold{anchored}"
        + (f", {anchors.retired} retired with their entries" if anchors.retired else "")
    )
    return 0


def cmd_keys_rotate(_: argparse.Namespace) -> int:
    """Add a new data key, make it current and re-encrypt every personal field with it."""
    from api.key_rotation import rotate_keys

    with _services(get_settings()) as settings:
        _run(_with_db(settings, lambda: rotate_keys(settings, progress=print)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `anju` console script."""
    parser = argparse.ArgumentParser(prog="anju", description="安居 Anju platform")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run everything with a demo community").set_defaults(fn=cmd_demo)
    sub.add_parser("serve", help="run the API").set_defaults(fn=cmd_serve)
    sub.add_parser("worker", help="run the background worker").set_defaults(fn=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    bridge = sub.add_parser("bridge", help="the site bridge: enroll --token T | run | info")
    bridge.add_argument("bridge_args", nargs=argparse.REMAINDER)
    bridge.set_defaults(fn=cmd_bridge)
    openapi = sub.add_parser("openapi", help="write openapi/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail when the file is stale")
    openapi.set_defaults(fn=cmd_openapi)
    admin = sub.add_parser("createadmin", help="create an administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument(
        "--role", required=True, choices=["system_admin", "security_admin", "audit_admin"]
    )
    admin.set_defaults(fn=cmd_createadmin)
    audit = sub.add_parser("audit", help="audit log tools").add_subparsers(
        dest="audit", required=True
    )
    audit.add_parser("verify", help="check the hash chain and its anchors").set_defaults(
        fn=cmd_audit_verify
    )
    keys = sub.add_parser("keys", help="personal-data keys").add_subparsers(
        dest="keys", required=True
    )
    keys.add_parser("rotate", help="new key; re-encrypt all").set_defaults(fn=cmd_keys_rotate)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
