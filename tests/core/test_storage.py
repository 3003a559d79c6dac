"""Object stores: the local directory and S3 (against a real moto server), one behaviour each."""

from __future__ import annotations

import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from api.core.storage import (
    InvalidObjectKey,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    RetentionClass,
    S3ObjectStore,
    open_object_store,
    validate_key,
)
from api.settings import Settings

JPEG = b"\xff\xd8\xff\xe0 snapshot \xff\xd9"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def local_store(tmp_path: Path, clock: FakeClock) -> LocalObjectStore:
    return LocalObjectStore(
        tmp_path / "objects",
        public_url="https://anju.example/",
        signing_key=b"k" * 32,
        clock=clock,
    )


@pytest.fixture
async def s3_store(moto_endpoint: str) -> AsyncIterator[S3ObjectStore]:
    async with S3ObjectStore(
        endpoint=moto_endpoint,
        bucket=f"anju-{uuid.uuid4().hex[:12]}",
        region="us-east-1",
        access_key="test",
        secret_key="test",
    ) as store:
        await store.ensure_bucket()
        yield store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    fixture = "local_store" if request.param == "local" else "s3_store"
    result: ObjectStore = request.getfixturevalue(fixture)
    return result


class TestRetentionClass:
    def test_days_meet_the_standards_minimums(self) -> None:
        # Minimums from spec/REQUIREMENTS.md "Retention periods"; months counted at 31 days.
        assert RetentionClass.VIDEO_30D.days == 30
        assert RetentionClass.KEY_VIDEO_90D.days == 90
        assert RetentionClass.RECORD_6M.days is not None
        assert RetentionClass.RECORD_6M.days >= 6 * 30.5
        assert RetentionClass.VEHICLE_EVENT_365D.days == 365
        assert RetentionClass.SOS_1Y.days is not None
        assert RetentionClass.SOS_1Y.days >= 366
        assert RetentionClass.AUDIT_6M.days == RetentionClass.RECORD_6M.days
        assert RetentionClass.EXPORT_7D.days == 7
        assert RetentionClass.PERMANENT.days is None

    def test_values_are_stable_wire_names(self) -> None:
        assert RetentionClass("video_30d") is RetentionClass.VIDEO_30D
        assert {c.value for c in RetentionClass} == {
            "video_30d",
            "key_video_90d",
            "record_6m",
            "vehicle_event_365d",
            "sos_1y",
            "audit_6m",
            "export_7d",
            "permanent",
        }


class TestRoundTrip:
    async def test_get_returns_what_was_put(self, store: ObjectStore) -> None:
        await store.put(
            "snapshots/c1/a.jpg",
            JPEG,
            content_type="image/jpeg",
            retention=RetentionClass.RECORD_6M,
        )
        assert await store.get("snapshots/c1/a.jpg") == JPEG

    async def test_retention_and_info_are_kept(self, store: ObjectStore) -> None:
        await store.put(
            "sos/c1/clip.mp4", b"clip", content_type="video/mp4", retention=RetentionClass.SOS_1Y
        )
        assert await store.retention_of("sos/c1/clip.mp4") is RetentionClass.SOS_1Y
        info = await store.info("sos/c1/clip.mp4")
        assert info.content_type == "video/mp4"
        assert info.size == 4
        assert info.created.tzinfo is not None

    async def test_put_replaces(self, store: ObjectStore) -> None:
        await store.put(
            "e/x.csv", b"one", content_type="text/csv", retention=RetentionClass.EXPORT_7D
        )
        await store.put(
            "e/x.csv", b"two", content_type="text/csv", retention=RetentionClass.PERMANENT
        )
        assert await store.get("e/x.csv") == b"two"
        assert await store.retention_of("e/x.csv") is RetentionClass.PERMANENT

    async def test_missing_object_is_not_found(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFound):
            await store.get("nothing/here.jpg")
        with pytest.raises(ObjectNotFound):
            await store.retention_of("nothing/here.jpg")

    async def test_delete_is_idempotent(self, store: ObjectStore) -> None:
        await store.put(
            "d/x.bin",
            b"x",
            content_type="application/octet-stream",
            retention=RetentionClass.VIDEO_30D,
        )
        await store.delete("d/x.bin")
        await store.delete("d/x.bin")
        await store.delete("never/was.bin")
        with pytest.raises(ObjectNotFound):
            await store.get("d/x.bin")

    async def test_keys_lists_the_objects_under_a_folder(self, store: ObjectStore) -> None:
        for key in ("anchors/2.json", "anchors/1.json", "anchors/deep/3.json", "anchorsx/4.json"):
            await store.put(
                key, b"{}", content_type="application/json", retention=RetentionClass.AUDIT_6M
            )

        assert await store.keys("anchors/") == [
            "anchors/1.json",
            "anchors/2.json",
            "anchors/deep/3.json",
        ]
        assert await store.keys("nothing/") == []

    @pytest.mark.parametrize(
        "key",
        [
            "",
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "a//b",
            "a/./b",
            ".hidden",
            "a b.jpg",
            "a\\b",
            "照片.jpg",
            "x.jpg.meta.json",
        ],
    )
    async def test_bad_keys_are_refused(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(InvalidObjectKey):
            await store.put(
                key, b"x", content_type="text/plain", retention=RetentionClass.EXPORT_7D
            )
        with pytest.raises(InvalidObjectKey):
            await store.get(key)
        with pytest.raises(InvalidObjectKey):
            await store.presigned_url(key)


class TestValidateKey:
    def test_accepts_plain_paths(self) -> None:
        assert (
            validate_key("plates/2025-01-01/c1_lane-2.v1.jpg")
            == "plates/2025-01-01/c1_lane-2.v1.jpg"
        )

    def test_refuses_overlong_keys(self) -> None:
        with pytest.raises(InvalidObjectKey):
            validate_key("a" * 1025)


class TestLocalStore:
    async def test_files_stay_under_root_with_sidecar(
        self, local_store: LocalObjectStore, tmp_path: Path
    ) -> None:
        await local_store.put(
            "a/b.jpg", JPEG, content_type="image/jpeg", retention=RetentionClass.VIDEO_30D
        )
        root = tmp_path / "objects"
        assert (root / "a" / "b.jpg").read_bytes() == JPEG
        assert (root / "a" / "b.jpg.meta.json").is_file()
        assert sorted(p.name for p in (root / "a").iterdir()) == ["b.jpg", "b.jpg.meta.json"]

    async def test_delete_removes_the_sidecar(
        self, local_store: LocalObjectStore, tmp_path: Path
    ) -> None:
        await local_store.put(
            "a/b.jpg", JPEG, content_type="image/jpeg", retention=RetentionClass.VIDEO_30D
        )
        await local_store.delete("a/b.jpg")
        assert list((tmp_path / "objects" / "a").iterdir()) == []

    async def test_a_prefix_is_not_an_object(self, local_store: LocalObjectStore) -> None:
        await local_store.put(
            "a/b.jpg", JPEG, content_type="image/jpeg", retention=RetentionClass.VIDEO_30D
        )
        with pytest.raises(ObjectNotFound):
            await local_store.get("a")


class TestLocalSignedUrl:
    async def _signed(self, store: LocalObjectStore, key: str) -> tuple[str, str, str]:
        url = urlsplit(await store.presigned_url(key, expires_in=300))
        query = parse_qs(url.query)
        return url.path, query["expires"][0], query["sig"][0]

    async def test_url_points_at_the_objects_route(
        self, local_store: LocalObjectStore, clock: FakeClock
    ) -> None:
        url = await local_store.presigned_url("a/b.jpg", expires_in=60)
        assert url.startswith("https://anju.example/api/v1/objects/a/b.jpg?expires=")
        assert f"expires={int(clock.now) + 60}&" in url

    async def test_valid_signature_is_accepted(self, local_store: LocalObjectStore) -> None:
        path, expires, sig = await self._signed(local_store, "a/b.jpg")
        assert path == "/api/v1/objects/a/b.jpg"
        assert local_store.verify_signature("a/b.jpg", expires, sig)

    async def test_expired_signature_is_refused(
        self, local_store: LocalObjectStore, clock: FakeClock
    ) -> None:
        _, expires, sig = await self._signed(local_store, "a/b.jpg")
        clock.now += 301
        assert not local_store.verify_signature("a/b.jpg", expires, sig)

    async def test_tampered_signature_is_refused(self, local_store: LocalObjectStore) -> None:
        _, expires, sig = await self._signed(local_store, "a/b.jpg")
        forged = ("0" if sig[0] != "0" else "1") + sig[1:]
        assert not local_store.verify_signature("a/b.jpg", expires, forged)

    async def test_signature_is_bound_to_key_and_expiry(
        self, local_store: LocalObjectStore
    ) -> None:
        _, expires, sig = await self._signed(local_store, "a/b.jpg")
        assert not local_store.verify_signature("a/c.jpg", expires, sig)
        assert not local_store.verify_signature("a/b.jpg", str(int(expires) + 3600), sig)
        assert not local_store.verify_signature("a/b.jpg", "soon", sig)
        assert not local_store.verify_signature("../b.jpg", expires, sig)

    async def test_other_signing_key_is_refused(
        self, local_store: LocalObjectStore, tmp_path: Path, clock: FakeClock
    ) -> None:
        other = LocalObjectStore(
            tmp_path, public_url="https://anju.example", signing_key=b"o" * 32, clock=clock
        )
        _, expires, sig = await self._signed(other, "a/b.jpg")
        assert not local_store.verify_signature("a/b.jpg", expires, sig)


class TestS3Store:
    async def test_retention_is_metadata_and_tag(
        self, s3_store: S3ObjectStore, moto_endpoint: str
    ) -> None:
        await s3_store.put(
            "v/c.mp4", b"clip", content_type="video/mp4", retention=RetentionClass.KEY_VIDEO_90D
        )
        # A separate plain client sees what other S3 tools (lifecycle rules, the console) see.
        s3 = boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        head = s3.head_object(Bucket=s3_store.bucket, Key="v/c.mp4")
        assert head["Metadata"] == {"retention": "key_video_90d"}
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-retention"] == "key_video_90d"
        tags = s3.get_object_tagging(Bucket=s3_store.bucket, Key="v/c.mp4")["TagSet"]
        assert tags == [{"Key": "retention", "Value": "key_video_90d"}]

    async def test_presigned_url_serves_the_bytes(self, s3_store: S3ObjectStore) -> None:
        await s3_store.put(
            "p/a.jpg", JPEG, content_type="image/jpeg", retention=RetentionClass.RECORD_6M
        )
        url = await s3_store.presigned_url("p/a.jpg", expires_in=60)
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.status_code == 200
        assert response.content == JPEG
        assert response.headers["content-type"] == "image/jpeg"

    async def test_ensure_bucket_is_idempotent(self, s3_store: S3ObjectStore) -> None:
        await s3_store.ensure_bucket()
        await s3_store.ensure_bucket()

    async def test_ensure_bucket_outside_us_east_1(self, moto_endpoint: str) -> None:
        async with S3ObjectStore(
            endpoint=moto_endpoint,
            bucket=f"anju-{uuid.uuid4().hex[:12]}",
            region="ap-east-1",
            access_key="test",
            secret_key="test",
        ) as store:
            await store.ensure_bucket()
            await store.put(
                "x", b"x", content_type="text/plain", retention=RetentionClass.EXPORT_7D
            )
            assert await store.get("x") == b"x"


class TestOpenObjectStore:
    async def test_local_without_s3_endpoint(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        async with open_object_store(settings) as store:
            assert isinstance(store, LocalObjectStore)
            await store.put(
                "a.txt", b"a", content_type="text/plain", retention=RetentionClass.EXPORT_7D
            )
            assert (tmp_path / "objects" / "a.txt").read_bytes() == b"a"
            url = urlsplit(await store.presigned_url("a.txt"))
            query = parse_qs(url.query)
            assert store.verify_signature("a.txt", query["expires"][0], query["sig"][0])
        # The signing key comes from the server secret, which is created on first start.
        assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600

    async def test_s3_with_endpoint_creates_the_bucket(
        self, tmp_path: Path, moto_endpoint: str
    ) -> None:
        settings = Settings(
            data_dir=tmp_path,
            s3_endpoint=moto_endpoint,
            s3_bucket=f"anju-{uuid.uuid4().hex[:12]}",
            s3_access_key="test",
            s3_secret_key="test",
        )
        async with open_object_store(settings) as store:
            assert isinstance(store, S3ObjectStore)
            await store.put(
                "a.txt", b"a", content_type="text/plain", retention=RetentionClass.EXPORT_7D
            )
            assert await store.get("a.txt") == b"a"
        assert not (tmp_path / "objects").exists()
