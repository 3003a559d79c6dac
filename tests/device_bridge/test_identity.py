"""Enrolment and the key: `python -m device_bridge enroll` against a stand-in enrolment endpoint."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_bridge.identity import (
    EnrolmentError,
    NotEnrolled,
    enroll,
    load_bridge_id,
    load_or_create_key,
    sign_challenge,
)
from device_bridge.protocol import challenge_message
from device_bridge.settings import PACKAGE_DIR, BridgeSettings, from_environ, load_config

ROOT = Path(__file__).resolve().parents[2]


class Enrolments:
    """The platform's enrolment endpoint, reduced to its contract: one-time tokens."""

    def __init__(self) -> None:
        self.tokens = {"good-token": True}
        self.requests: list[dict[str, Any]] = []

    def handle(self, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        self.requests.append(body)
        if not self.tokens.get(body.get("token", "")):
            return 400, {
                "code": "enrolment_token_invalid",
                "message": "token used, expired or unknown",
            }
        self.tokens[body["token"]] = False
        return 200, {"bridge_id": f"br-{len(self.requests)}", "community_id": "c-1"}


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Enrolments]]:
    """A local HTTP server answering POST /api/v1/bridges/enroll."""
    enrolments = Enrolments()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert self.path == "/api/v1/bridges/enroll"
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = enrolments.handle(body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", enrolments
    server.shutdown()
    server.server_close()


class TestEnrol:
    async def test_creates_a_private_key_registers_it_and_stores_the_id(
        self, tmp_path: Path, endpoint: tuple[str, Enrolments]
    ) -> None:
        url, enrolments = endpoint
        settings = BridgeSettings(platform_url=url, data_dir=tmp_path / "b", name="北门机房")
        result = await enroll(settings, token="good-token")
        assert (result.bridge_id, result.community_id) == ("br-1", "c-1")
        assert load_bridge_id(settings) == "br-1"
        assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
        assert settings.key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")

        sent = enrolments.requests[0]
        assert sent["name"] == "北门机房" and sent["version"]
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(sent["public_key"]))
        key = load_or_create_key(settings.key_file)
        public.verify(sign_challenge(key, b"nonce", "br-1"), challenge_message(b"nonce", "br-1"))

    async def test_a_used_token_is_refused_with_the_platforms_reason(
        self, tmp_path: Path, endpoint: tuple[str, Enrolments]
    ) -> None:
        url, _ = endpoint
        settings = BridgeSettings(platform_url=url, data_dir=tmp_path / "b")
        await enroll(settings, token="good-token")
        with pytest.raises(EnrolmentError) as refused:
            await enroll(settings, token="good-token")
        assert refused.value.code == "enrolment_token_invalid"
        assert load_bridge_id(settings) == "br-1"  # the first enrolment stands

    async def test_unreachable_platform(self, tmp_path: Path) -> None:
        settings = BridgeSettings(platform_url="http://127.0.0.1:9", data_dir=tmp_path / "b")
        with pytest.raises(EnrolmentError) as failed:
            await enroll(settings, token="t")
        assert failed.value.code == "unreachable"

    def test_the_key_is_kept_across_runs(self, tmp_path: Path) -> None:
        first = load_or_create_key(tmp_path / "k.pem")
        again = load_or_create_key(tmp_path / "k.pem")
        assert first.public_key().public_bytes_raw() == again.public_key().public_bytes_raw()

    def test_not_enrolled(self, tmp_path: Path) -> None:
        with pytest.raises(NotEnrolled):
            load_bridge_id(BridgeSettings(data_dir=tmp_path))


class TestCommandLine:
    def test_enroll_then_info(self, tmp_path: Path, endpoint: tuple[str, Enrolments]) -> None:
        url, _ = endpoint
        env = {**os.environ, "ANJU_BRIDGE_PLATFORM_URL": url, "ANJU_BRIDGE_DATA_DIR": str(tmp_path)}

        def bridge(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "device_bridge", *args],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )

        ok = bridge("enroll", "--token", "good-token", "--name", "test")
        assert ok.returncode == 0, ok.stderr
        assert "enrolled: bridge br-1" in ok.stdout
        assert "good-token" not in ok.stdout + ok.stderr  # tokens are never logged
        again = bridge("enroll", "--token", "good-token")
        assert again.returncode == 1 and "token used, expired or unknown" in again.stderr
        info = bridge("info")
        devices = len(load_config(PACKAGE_DIR / "demo.toml").devices)
        assert info.returncode == 0 and "br-1" in info.stdout
        assert f"{devices} devices" in info.stdout


class TestSettings:
    def test_from_environ(self) -> None:
        settings = from_environ(
            {
                "ANJU_BRIDGE_PLATFORM_URL": "https://anju.example.cn",
                "ANJU_BRIDGE_DATA_DIR": "/srv/bridge",
                "ANJU_BRIDGE_HEARTBEAT_INTERVAL": "5",
            }
        )
        assert settings.link_url == "wss://anju.example.cn/api/v1/bridge/link"
        assert settings.enrol_url == "https://anju.example.cn/api/v1/bridges/enroll"
        assert settings.key_file == Path("/srv/bridge/bridge.key")
        assert settings.heartbeat_interval == 5.0
        assert from_environ({}).link_url == "ws://127.0.0.1:8000/api/v1/bridge/link"
