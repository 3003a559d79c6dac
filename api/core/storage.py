"""Object store for media and exports: S3 (aioboto3) in production, a local directory embedded.

Every object carries a retention class; the retention worker purges by it. Keys are portable
between the two implementations: both accept only ``[A-Za-z0-9/_.-]`` paths of plain segments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol
from urllib.parse import quote

import aioboto3
import msgspec
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api.core.crypto import derive_key, load_server_secret
from api.settings import Settings

META_SUFFIX: Final = ".meta.json"
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_MAX_KEY_LENGTH: Final = 1024  # S3's limit
_NOT_FOUND_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})


class RetentionClass(StrEnum):
    """How long an object is kept at least; the standard's minimums, rounded up."""

    VIDEO_30D = "video_30d"
    KEY_VIDEO_90D = "key_video_90d"
    RECORD_6M = "record_6m"
    VEHICLE_EVENT_365D = "vehicle_event_365d"
    SOS_1Y = "sos_1y"
    AUDIT_6M = "audit_6m"
    EXPORT_7D = "export_7d"
    PERMANENT = "permanent"

    @property
    def days(self) -> int | None:
        """Minimum days to keep the object; None means it is never purged."""
        return _RETENTION_DAYS[self]


# Months are counted at their longest so "6 months" / "1 year" hold for any start date.
_RETENTION_DAYS: Final[dict[RetentionClass, int | None]] = {
    RetentionClass.VIDEO_30D: 30,
    RetentionClass.KEY_VIDEO_90D: 90,
    RetentionClass.RECORD_6M: 184,
    RetentionClass.VEHICLE_EVENT_365D: 365,
    RetentionClass.SOS_1Y: 366,
    RetentionClass.AUDIT_6M: 184,
    RetentionClass.EXPORT_7D: 7,
    RetentionClass.PERMANENT: None,
}


class StorageError(Exception):
    """The object store failed or holds inconsistent data."""


# Named like the project's other domain errors (PassExpired), without an Error suffix.
class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class InvalidObjectKey(StorageError, ValueError):
    """The key is empty, too long, absolute, climbs out of the store or uses other characters."""


class ObjectInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the store knows about an object besides its bytes."""

    content_type: str
    retention: RetentionClass
    created: dt.datetime
    size: int


INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"})
"""Media a browser may show in place: raster images and video, which run no script. Anything else
(SVG above all, which is a document) is kept and served as an attachment of bytes."""
OCTET_STREAM = "application/octet-stream"
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a PNG header on an HTML body stays an image
    "Content-Security-Policy": "default-src 'none'; sandbox",  # no script, no origin if opened
}


_IMAGE_MAGIC: Final = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


def is_image(content_type: str, data: bytes) -> bool:
    """The bytes begin as an image of that type (JPEG, PNG or WebP) says they must."""
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    magic = _IMAGE_MAGIC.get(content_type)
    return magic is not None and data.startswith(magic)


def stored_type(content_type: str) -> str:
    """The content type an object is kept and served with: an inline type, else octet-stream."""
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare if bare in INLINE_TYPES else OCTET_STREAM


def disposition(key: str, content_type: str) -> str:
    """`inline` for a type shown in place, else `attachment`; the key's last segment as the name."""
    kind = "inline" if content_type in INLINE_TYPES else "attachment"
    return f'{kind}; filename="{key.rsplit("/", 1)[-1]}"'


def validate_key(key: str) -> str:
    """Return the key if it is a relative path of plain segments; raise InvalidObjectKey if not."""
    segments = key.split("/")
    if (
        not key
        or len(key) > _MAX_KEY_LENGTH
        # A leading "." also refuses "." and ".." and keeps keys off the store's hidden temp files.
        or not all(_SEGMENT.fullmatch(segment) for segment in segments)
        or key.endswith(META_SUFFIX)
    ):
        raise InvalidObjectKey(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    """Where media and exports live; every object has a retention class."""

    async def put(
        self, key: str, data: bytes, *, content_type: str, retention: RetentionClass
    ) -> None:
        """Store data under key, replacing any previous object."""
        ...

    async def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""
        ...

    async def info(self, key: str) -> ObjectInfo:
        """The object's content type, retention class, creation time and size."""
        ...

    async def retention_of(self, key: str) -> RetentionClass:
        """The object's retention class; ObjectNotFound if there is none."""
        ...

    async def presigned_url(self, key: str, *, expires_in: int = 300) -> str:
        """A URL that lets a browser fetch the object without a session until it expires."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        ...

    async def keys(self, prefix: str) -> list[str]:
        """The keys of every object under the folder `prefix` (ending in "/"), sorted."""
        ...


# --- local directory ---------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp_name).replace(path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


class LocalObjectStore:
    """Objects as files under root, each with a sidecar `<file>.meta.json`; URLs signed by HMAC."""

    def __init__(
        self,
        root: Path,
        *,
        public_url: str,
        signing_key: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._root = root
        self._public_url = public_url.rstrip("/")
        self._signing_key = signing_key
        self._clock = clock

    def _paths(self, key: str) -> tuple[Path, Path]:
        path = self._root / validate_key(key)
        return path, path.with_name(path.name + META_SUFFIX)

    async def put(
        self, key: str, data: bytes, *, content_type: str, retention: RetentionClass
    ) -> None:
        """Store data under key, replacing any previous object."""
        path, meta_path = self._paths(key)
        info = ObjectInfo(
            content_type=stored_type(content_type),
            retention=retention,
            created=dt.datetime.now(dt.UTC),
            size=len(data),
        )

        def write() -> None:
            # Metadata first: a visible object always has a retention class, so a crash between
            # the two writes leaves at worst an orphan sidecar, never an object nobody purges.
            _atomic_write(meta_path, msgspec.json.encode(info))
            _atomic_write(path, data)

        try:
            await asyncio.to_thread(write)
        except OSError as err:
            raise StorageError(f"cannot write object {key!r}") from err

    async def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""
        path, _ = self._paths(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as err:
            raise StorageError(f"cannot read object {key!r}") from err

    async def info(self, key: str) -> ObjectInfo:
        """The object's content type, retention class, creation time and size."""
        path, meta_path = self._paths(key)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(key)
        try:
            raw = await asyncio.to_thread(meta_path.read_bytes)
            return msgspec.json.decode(raw, type=ObjectInfo)
        except (OSError, msgspec.DecodeError) as err:
            raise StorageError(f"metadata of object {key!r} is missing or corrupt") from err

    async def retention_of(self, key: str) -> RetentionClass:
        """The object's retention class; ObjectNotFound if there is none."""
        return (await self.info(key)).retention

    async def presigned_url(self, key: str, *, expires_in: int = 300) -> str:
        """`{public_url}/api/v1/objects/{key}?expires=…&sig=…`, served after verify_signature."""
        validate_key(key)
        expires = int(self._clock()) + expires_in
        return (
            f"{self._public_url}/api/v1/objects/{key}"
            f"?expires={expires}&sig={self._sign(key, expires)}"
        )

    def verify_signature(self, key: str, expires: int | str, sig: str) -> bool:
        """True if sig was issued by presigned_url for this key and expiry and has not expired."""
        try:
            validate_key(key)
            expires_at = int(expires)
        except (InvalidObjectKey, ValueError):
            return False
        if expires_at < self._clock():
            return False
        return hmac.compare_digest(self._sign(key, expires_at), sig)

    def _sign(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        path, meta_path = self._paths(key)

        def remove() -> None:
            # The object first, then its sidecar: the reverse of put, for the same reason.
            path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)

        try:
            await asyncio.to_thread(remove)
        except OSError as err:
            raise StorageError(f"cannot delete object {key!r}") from err

    async def keys(self, prefix: str) -> list[str]:
        """The keys of every object under the folder `prefix` (ending in "/"), sorted."""
        folder = self._root / validate_key(prefix.rstrip("/"))

        def walk() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(
                path.relative_to(self._root).as_posix()
                for path in folder.rglob("*")
                # Sidecars and the hidden temp files of a write in progress are not objects.
                if path.is_file()
                and not path.name.startswith(".")
                and not path.name.endswith(META_SUFFIX)
            )

        try:
            return await asyncio.to_thread(walk)
        except OSError as err:
            raise StorageError(f"cannot list objects under {prefix!r}") from err


# --- S3 ----------------------------------------------------------------------------------------


def _is_not_found(err: ClientError) -> bool:
    return str(err.response.get("Error", {}).get("Code")) in _NOT_FOUND_CODES


class S3ObjectStore:
    """Objects in an S3 bucket; `async with S3ObjectStore(...) as store:` opens the client."""

    def __init__(
        self,
        *,
        endpoint: str | None,
        bucket: str,
        region: str,
        access_key: str | None,
        secret_key: str | None,
    ) -> None:
        self._bucket = bucket
        self._region = region
        self._endpoint = endpoint
        self._session = aioboto3.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def __aenter__(self) -> S3ObjectStore:
        # Path-style addressing: MinIO and IP-address endpoints have no per-bucket host names.
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        self._client = await self._stack.enter_async_context(
            self._session.client("s3", endpoint_url=self._endpoint, config=config)
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client = None
        await self._stack.aclose()

    @property
    def bucket(self) -> str:
        """The bucket objects are stored in."""
        return self._bucket

    @property
    def _s3(self) -> Any:
        if self._client is None:
            raise StorageError("S3ObjectStore used outside `async with`")
        return self._client

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (head first: credentials may lack CreateBucket)."""
        try:
            await self._s3.head_bucket(Bucket=self._bucket)
            return
        except ClientError as err:
            if not _is_not_found(err):
                raise StorageError(f"cannot reach bucket {self._bucket!r}") from err
        except BotoCoreError as err:
            raise StorageError(f"cannot reach bucket {self._bucket!r}") from err
        options: dict[str, Any] = {"Bucket": self._bucket}
        if self._region != "us-east-1":  # S3 rejects an explicit us-east-1 location
            options["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            await self._s3.create_bucket(**options)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise StorageError(f"cannot create bucket {self._bucket!r}") from err
        except BotoCoreError as err:
            raise StorageError(f"cannot create bucket {self._bucket!r}") from err

    async def put(
        self, key: str, data: bytes, *, content_type: str, retention: RetentionClass
    ) -> None:
        """Store data under key, replacing any previous object."""
        validate_key(key)
        try:
            # Metadata is returned by HEAD; the tag lets bucket lifecycle rules expire by class.
            await self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=stored_type(content_type),
                ContentDisposition=disposition(key, stored_type(content_type)),
                Metadata={"retention": retention.value},
                Tagging=f"retention={quote(retention.value)}",
            )
        except (ClientError, BotoCoreError) as err:
            raise StorageError(f"cannot write object {key!r}") from err

    async def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""
        validate_key(key)
        try:
            response = await self._s3.get_object(Bucket=self._bucket, Key=key)
            async with response["Body"] as body:
                data: bytes = await body.read()
                return data
        except ClientError as err:
            if _is_not_found(err):
                raise ObjectNotFound(key) from None
            raise StorageError(f"cannot read object {key!r}") from err
        except BotoCoreError as err:
            raise StorageError(f"cannot read object {key!r}") from err

    async def info(self, key: str) -> ObjectInfo:
        """The object's content type, retention class, creation time and size."""
        validate_key(key)
        try:
            head = await self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as err:
            if _is_not_found(err):
                raise ObjectNotFound(key) from None
            raise StorageError(f"cannot read object {key!r}") from err
        except BotoCoreError as err:
            raise StorageError(f"cannot read object {key!r}") from err
        try:
            retention = RetentionClass(head.get("Metadata", {}).get("retention"))
        except ValueError as err:
            raise StorageError(f"object {key!r} has no valid retention class") from err
        return ObjectInfo(
            content_type=head.get("ContentType", "application/octet-stream"),
            retention=retention,
            created=head["LastModified"],
            size=head["ContentLength"],
        )

    async def retention_of(self, key: str) -> RetentionClass:
        """The object's retention class; ObjectNotFound if there is none."""
        return (await self.info(key)).retention

    async def presigned_url(self, key: str, *, expires_in: int = 300) -> str:
        """A SigV4 presigned GET URL on the S3 endpoint."""
        validate_key(key)
        try:
            url: str = await self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as err:
            raise StorageError(f"cannot sign a URL for {key!r}") from err
        return url

    async def delete(self, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        validate_key(key)
        try:
            await self._s3.delete_object(Bucket=self._bucket, Key=key)
        except ClientError as err:
            if not _is_not_found(err):
                raise StorageError(f"cannot delete object {key!r}") from err
        except BotoCoreError as err:
            raise StorageError(f"cannot delete object {key!r}") from err

    async def keys(self, prefix: str) -> list[str]:
        """The keys of every object under the folder `prefix` (ending in "/"), sorted."""
        validate_key(prefix.rstrip("/"))
        found: list[str] = []
        try:
            paginator = self._s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                found += [item["Key"] for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as err:
            raise StorageError(f"cannot list objects under {prefix!r}") from err
        return sorted(found)


# --- lifespan ----------------------------------------------------------------------------------


@asynccontextmanager
async def open_object_store(settings: Settings) -> AsyncIterator[ObjectStore]:
    """The configured store for the app lifespan: S3 if ANJU_S3_ENDPOINT is set, else local."""
    if settings.s3_endpoint:
        async with S3ObjectStore(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
        ) as store:
            await store.ensure_bucket()
            yield store
    else:
        secret = load_server_secret(settings.secret_key_path)
        yield LocalObjectStore(
            settings.data_dir / "objects",
            public_url=settings.public_url,
            signing_key=derive_key(secret, "object-url"),
        )
