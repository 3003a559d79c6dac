"""Per-field encryption of personal data, blind indexes, masking and validation.

Token format
    A personal field is stored as ``"{alg}:{kid}:{payload}"``:

    * ``alg``: ``a256gcm`` (AES-256-GCM, ``ANJU_CRYPTO=std``) or ``sm4gcm`` (SM4-GCM with the first
      16 bytes of the key, ``ANJU_CRYPTO=sm``);
    * ``kid``: the id of the keyring key that encrypted it (``k1``, ``k2``, …);
    * ``payload``: unpadded base64url of ``nonce (12 bytes) || ciphertext || tag (16 bytes)``.

    The column name (``context``, e.g. ``"persons.phone"``) is the GCM associated data, so a
    ciphertext copied into another column, or another table, fails to decrypt.

Rotation
    ``decrypt`` reads the algorithm and key id from the token, never from the settings, so rows
    written before a key rotation (``Keyring.rotate``) or a switch of ``ANJU_CRYPTO`` keep
    decrypting. New writes use the current key and the configured algorithm. A background job
    re-encrypts old rows with ``needs_rotation`` / ``reencrypt``; a key may leave the keyring only
    once no token references it. Rotation is an operator action: run it from one process, then
    restart the others so they load the new keyring.

Blind indexes
    Encrypted columns cannot be compared, so equality look-ups (find a person by phone) go through
    ``blind_index``: an HMAC of the normalized value under its own key, derived from the server
    secret and kept apart from the encryption keys. The HMAC follows the mode (HMAC-SHA256 or
    HMAC-SM3), so switching ``ANJU_CRYPTO`` means recomputing every index (decrypt, then index
    again) in the same job that re-encrypts the rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.settings import CryptoMode

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
_ALG_BY_MODE: Final[dict[CryptoMode, str]] = {"std": "a256gcm", "sm": "sm4gcm"}
_KID = re.compile(r"k(\d+)")


class CryptoError(Exception):
    """A key file or keyring is missing, malformed or inconsistent."""


class DecryptionError(CryptoError):
    """A token is malformed, tampered with, bound to another context, or names an unknown key."""


# --- files holding secrets -------------------------------------------------------------------


def _write_secret(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write a 0600 file atomically; with replace=False, keep an existing file and return False."""
    # 0700 on directories we create: they hold keys.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp already created it with mode 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            tmp.replace(path)
            return True
        try:
            # link() refuses to overwrite: when two processes start on an empty data dir at once,
            # exactly one key wins and both end up using it.
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def write_new_key(path: Path, data: bytes) -> bool:
    """Create a 0600 key file atomically; when two processes race, the first file wins (False)."""
    return _write_secret(path, data, replace=False)


def load_server_secret(path: Path) -> bytes:
    """Read the server secret, creating 32 random bytes (base64, mode 0600) on first use."""
    if not path.exists():
        _write_secret(path, base64.b64encode(secrets.token_bytes(KEY_BYTES)), replace=False)
    try:
        secret = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise CryptoError(f"server secret {path} is not base64") from err
    if len(secret) < KEY_BYTES:
        raise CryptoError(f"server secret {path} is shorter than {KEY_BYTES} bytes")
    return secret


def derive_key(secret: bytes, purpose: str) -> bytes:
    """Derive an independent 32-byte key for one purpose ("blind-index", "object-url", …)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"anju:{purpose}".encode(),
    )
    return hkdf.derive(secret)


# --- keyring -----------------------------------------------------------------------------------


class Keyring:
    """Data-encryption keys by id; one of them is current and encrypts new values."""

    def __init__(self, current: str, keys: Mapping[str, bytes]) -> None:
        if current not in keys:
            raise CryptoError(f"current key {current!r} is not in the keyring")
        if any(len(key) != KEY_BYTES for key in keys.values()):
            raise CryptoError(f"every keyring key must be {KEY_BYTES} bytes")
        self._current = current
        self._keys = dict(keys)

    @classmethod
    def load_or_create(cls, path: Path) -> Keyring:
        """Load the keyring file, creating it (mode 0600) with one fresh key on first use."""
        if not path.exists():
            fresh = cls("k1", {"k1": secrets.token_bytes(KEY_BYTES)})
            _write_secret(path, fresh._dump(), replace=False)
        try:
            raw = json.loads(path.read_bytes())
            keys = {
                kid: base64.b64decode(value, validate=True) for kid, value in raw["keys"].items()
            }
            return cls(raw["current"], keys)
        except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as err:
            raise CryptoError(f"keyring {path} is malformed") from err

    @property
    def current_id(self) -> str:
        """Id of the key that encrypts new values."""
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        """Ids of every key the keyring holds."""
        return tuple(self._keys)

    def key(self, kid: str) -> bytes:
        """The key with this id; KeyError if the keyring does not hold it."""
        return self._keys[kid]

    def rotate(self, path: Path) -> str:
        """Add a new key, make it current, save the keyring atomically and return the new id."""
        numbers = [int(m.group(1)) for kid in self._keys if (m := _KID.fullmatch(kid))]
        kid = f"k{max(numbers, default=0) + 1}"
        self._keys[kid] = secrets.token_bytes(KEY_BYTES)
        self._current = kid
        _write_secret(path, self._dump(), replace=True)
        return kid

    def _dump(self) -> bytes:
        keys = {kid: base64.b64encode(key).decode() for kid, key in self._keys.items()}
        return json.dumps({"current": self._current, "keys": keys}, indent=2).encode()


# --- hashing -----------------------------------------------------------------------------------


def _hash_algorithm(mode: CryptoMode) -> hashes.HashAlgorithm:
    return hashes.SM3() if mode == "sm" else hashes.SHA256()


def digest(data: bytes, mode: CryptoMode) -> bytes:
    """SHA-256 (std) or SM3 (sm) of data; the audit hash chain uses it."""
    if mode == "std":
        return hashlib.sha256(data).digest()
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


# --- normalization and validation -----------------------------------------------------------


def normalize_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 country code: "+86 138-1234-5678" → "13812345678"."""
    # NFKC first: phones typed on Chinese keyboards often carry full-width digits.
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def normalize_id_number(value: str) -> str:
    """Without whitespace and upper-case, so a lower-case x check digit matches."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", value)).upper()


def _normalize_text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


_NORMALIZERS = {
    "phone": normalize_phone,
    "id_number": normalize_id_number,
    "text": _normalize_text,
    "username": _normalize_text,
    "plate": _normalize_text,  # callers pass a plate normalised by device_bridge.plates
}
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"


def valid_phone(value: str) -> bool:
    """A mainland mobile number (1[3-9] and 9 more digits) after normalization."""
    return re.fullmatch(r"1[3-9][0-9]{9}", normalize_phone(value)) is not None


def valid_id_number(value: str) -> bool:
    """An 18-character resident ID with a real past birth date and a valid MOD 11-2 check digit."""
    number = normalize_id_number(value)
    if re.fullmatch(r"[1-9][0-9]{16}[0-9X]", number) is None:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return id_check_digit(number[:17]) == number[17]


def id_check_digit(first17: str) -> str:
    """The MOD 11-2 check digit (GB 11643) of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11]


# --- masking -----------------------------------------------------------------------------------


def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_phone(value: str) -> str:
    """Show the first 3 and last 4 digits: "13812345678" → "138****5678"."""
    return _mask_middle(normalize_phone(value), 3, 4)


def mask_id_number(value: str) -> str:
    """Show the first 4 and last 4 characters: "5101**********1234"."""
    return _mask_middle(normalize_id_number(value), 4, 4)


def mask_name(value: str) -> str:
    """Chinese names keep the first and last character ("张*丰", "张*"); Latin words, initials."""
    name = value.strip()
    if name.isascii() or " " in name:
        # "John Smith" → "J*** S****": the initials stay recognisable to the person themselves.
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) == 2:
        return name[0] + "*"
    return _mask_middle(name, 1, 1)


# --- field cipher ------------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def _block_cipher(alg: str, key: bytes) -> algorithms.AES | algorithms.SM4:
    if alg == "a256gcm":
        return algorithms.AES(key)
    if alg == "sm4gcm":
        return algorithms.SM4(key[:16])  # SM4 takes a 128-bit key
    raise DecryptionError(f"unknown algorithm {alg!r}")


class FieldCipher:
    """Encrypts personal fields under the keyring's current key and computes blind indexes."""

    def __init__(self, keyring: Keyring, mode: CryptoMode, index_key: bytes) -> None:
        if mode not in _ALG_BY_MODE:
            raise ValueError(f"unknown crypto mode {mode!r}")
        self._keyring = keyring
        self._mode: CryptoMode = mode
        self._index_key = index_key

    @property
    def mode(self) -> CryptoMode:
        """The configured mode: "std" or "sm"."""
        return self._mode

    @property
    def alg(self) -> str:
        """The token algorithm new values are encrypted with."""
        return _ALG_BY_MODE[self._mode]

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt a value for one column (the context); returns "{alg}:{kid}:{payload}"."""
        kid = self._keyring.current_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        encryptor = Cipher(
            _block_cipher(self.alg, self._keyring.key(kid)), modes.GCM(nonce)
        ).encryptor()
        encryptor.authenticate_additional_data(context.encode())
        ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
        return f"{self.alg}:{kid}:{_b64encode(nonce + ciphertext + encryptor.tag)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a token with the algorithm and key it names; DecryptionError if it fails."""
        alg, kid, payload = _split(token)
        try:
            key = self._keyring.key(kid)
        except KeyError:
            raise DecryptionError(f"unknown key id {kid!r}") from None
        try:
            blob = _b64decode(payload)
        except (binascii.Error, ValueError) as err:
            raise DecryptionError("token payload is not base64url") from err
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("token payload is too short")
        nonce, ciphertext, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
        decryptor = Cipher(_block_cipher(alg, key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(context.encode())
        try:
            plaintext = decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError("token does not authenticate for this context") from None
        return plaintext.decode()

    def needs_rotation(self, token: str) -> bool:
        """True when the token was written under an older key or the other mode's algorithm."""
        alg, kid, _ = _split(token)
        return kid != self._keyring.current_id or alg != self.alg

    def reencrypt(self, token: str, *, context: str) -> str:
        """Decrypt and encrypt again under the current key and algorithm."""
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def blind_index(self, value: str, *, kind: str) -> str:
        """Hex HMAC of the normalized value, for equality look-ups; kind: phone, id_number, text,
        username, plate."""
        try:
            normalized = _NORMALIZERS[kind](value)
        except KeyError:
            raise ValueError(f"unknown blind-index kind {kind!r}") from None
        # The kind is part of the message so equal strings in different columns do not correlate.
        mac = hmac.HMAC(self._index_key, _hash_algorithm(self._mode))
        mac.update(f"{kind}\x00{normalized}".encode())
        return mac.finalize().hex()

    def digest(self, data: bytes) -> bytes:
        """SHA-256 or SM3 of data, per the configured mode."""
        return digest(data, self._mode)


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":")
    if len(parts) != 3 or not all(parts):
        raise DecryptionError("token is not alg:kid:payload")
    return parts[0], parts[1], parts[2]
