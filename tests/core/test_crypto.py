"""Per-field encryption, keyring rotation, blind indexes, masking and validation."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.core.crypto import (
    CryptoError,
    DecryptionError,
    FieldCipher,
    Keyring,
    derive_key,
    digest,
    load_server_secret,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_phone,
    valid_id_number,
    valid_phone,
)
from api.settings import CryptoMode

PHONE = "persons.phone"


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "keyring.json"


@pytest.fixture
def keyring(keyring_path: Path) -> Keyring:
    return Keyring.load_or_create(keyring_path)


@pytest.fixture(params=["std", "sm"])
def cipher(request: pytest.FixtureRequest, keyring: Keyring) -> FieldCipher:
    return FieldCipher(keyring, request.param, b"i" * 32)


def _payload(token: str) -> bytes:
    text = token.split(":")[2]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TestRoundTrip:
    @pytest.mark.req("DATA-24", partial=True)
    def test_decrypts_what_it_encrypts(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("13812345678", context=PHONE)
        assert cipher.decrypt(token, context=PHONE) == "13812345678"

    @pytest.mark.req("DATA-24", partial=True)
    def test_token_hides_the_value(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("张三丰 510104199001011230", context="persons.name")
        assert "510104" not in token
        assert "张" not in token
        assert cipher.decrypt(token, context="persons.name") == "张三丰 510104199001011230"

    def test_same_value_encrypts_differently_each_time(self, cipher: FieldCipher) -> None:
        assert cipher.encrypt("x", context=PHONE) != cipher.encrypt("x", context=PHONE)

    def test_empty_string_round_trips(self, cipher: FieldCipher) -> None:
        assert cipher.decrypt(cipher.encrypt("", context=PHONE), context=PHONE) == ""

    def test_token_names_algorithm_and_key(self, keyring: Keyring) -> None:
        std = FieldCipher(keyring, "std", b"i" * 32).encrypt("x", context=PHONE)
        sm = FieldCipher(keyring, "sm", b"i" * 32).encrypt("x", context=PHONE)
        assert std.startswith("a256gcm:k1:")
        assert sm.startswith("sm4gcm:k1:")


class TestAlgorithms:
    @pytest.mark.req("DATA-24", partial=True)
    def test_std_is_aes_256_gcm_with_context_as_aad(self, keyring: Keyring) -> None:
        token = FieldCipher(keyring, "std", b"i" * 32).encrypt("13812345678", context=PHONE)
        blob = _payload(token)
        plain = AESGCM(keyring.key("k1")).decrypt(blob[:12], blob[12:], PHONE.encode())
        assert plain == b"13812345678"

    @pytest.mark.req("SEC-05", partial=True)
    def test_sm_is_sm4_gcm_with_the_first_16_key_bytes(self, keyring: Keyring) -> None:
        token = FieldCipher(keyring, "sm", b"i" * 32).encrypt("13812345678", context=PHONE)
        blob = _payload(token)
        nonce, ciphertext, tag = blob[:12], blob[12:-16], blob[-16:]
        sm4 = algorithms.SM4(keyring.key("k1")[:16])
        decryptor = Cipher(sm4, modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(PHONE.encode())
        assert decryptor.update(ciphertext) + decryptor.finalize() == b"13812345678"

    @pytest.mark.req("SEC-05", partial=True)
    def test_sm_digest_is_sm3(self) -> None:
        # GB/T 32905-2016 appendix A.1 test vector.
        expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        assert digest(b"abc", "sm").hex() == expected

    def test_std_digest_is_sha256(self, keyring: Keyring) -> None:
        expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        assert FieldCipher(keyring, "std", b"i" * 32).digest(b"abc").hex() == expected


class TestTamper:
    @pytest.mark.req("DATA-24", partial=True)
    def test_flipped_ciphertext_byte_is_refused(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("13812345678", context=PHONE)
        alg, kid, _ = token.split(":")
        blob = bytearray(_payload(token))
        blob[14] ^= 0x01
        forged = f"{alg}:{kid}:{base64.urlsafe_b64encode(bytes(blob)).decode().rstrip('=')}"
        with pytest.raises(DecryptionError):
            cipher.decrypt(forged, context=PHONE)

    @pytest.mark.req("DATA-24", partial=True)
    def test_other_column_is_refused(self, cipher: FieldCipher) -> None:
        token = cipher.encrypt("13812345678", context=PHONE)
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, context="visitors.phone")

    def test_unknown_key_id_is_refused(self, cipher: FieldCipher) -> None:
        alg, _, payload = cipher.encrypt("x", context=PHONE).split(":")
        with pytest.raises(DecryptionError, match="unknown key"):
            cipher.decrypt(f"{alg}:k9:{payload}", context=PHONE)

    def test_swapped_algorithm_is_refused(self, keyring: Keyring) -> None:
        cipher = FieldCipher(keyring, "std", b"i" * 32)
        _, kid, payload = cipher.encrypt("x", context=PHONE).split(":")
        with pytest.raises(DecryptionError):
            cipher.decrypt(f"sm4gcm:{kid}:{payload}", context=PHONE)

    @pytest.mark.parametrize(
        "token",
        [
            "",
            "plain text",
            "a256gcm:k1",
            "a256gcm:k1:",
            "rot13:k1:AAAA",
            "a256gcm:k1:!!!!",
            "a256gcm:k1:AAAA",
        ],
    )
    def test_malformed_token_is_refused(self, keyring: Keyring, token: str) -> None:
        with pytest.raises(DecryptionError):
            FieldCipher(keyring, "std", b"i" * 32).decrypt(token, context=PHONE)


class TestRotation:
    def test_old_token_decrypts_after_rotation(
        self, cipher: FieldCipher, keyring: Keyring, keyring_path: Path
    ) -> None:
        old = cipher.encrypt("13812345678", context=PHONE)
        assert keyring.rotate(keyring_path) == "k2"
        assert cipher.needs_rotation(old)
        assert cipher.decrypt(old, context=PHONE) == "13812345678"

    def test_reencrypt_moves_token_to_current_key(
        self, cipher: FieldCipher, keyring: Keyring, keyring_path: Path
    ) -> None:
        old = cipher.encrypt("13812345678", context=PHONE)
        keyring.rotate(keyring_path)
        new = cipher.reencrypt(old, context=PHONE)
        assert new.split(":")[1] == "k2"
        assert not cipher.needs_rotation(new)
        assert cipher.decrypt(new, context=PHONE) == "13812345678"

    def test_rotation_is_saved_with_every_key(self, keyring: Keyring, keyring_path: Path) -> None:
        keyring.rotate(keyring_path)
        keyring.rotate(keyring_path)
        reloaded = Keyring.load_or_create(keyring_path)
        assert reloaded.current_id == "k3"
        assert reloaded.ids == ("k1", "k2", "k3")
        assert reloaded.key("k1") == keyring.key("k1")
        assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600

    @pytest.mark.parametrize(("old_mode", "new_mode"), [("std", "sm"), ("sm", "std")])
    def test_tokens_of_the_other_mode_still_decrypt(
        self, keyring: Keyring, old_mode: CryptoMode, new_mode: CryptoMode
    ) -> None:
        old = FieldCipher(keyring, old_mode, b"i" * 32).encrypt("13812345678", context=PHONE)
        cipher = FieldCipher(keyring, new_mode, b"i" * 32)
        assert cipher.needs_rotation(old)
        assert cipher.decrypt(old, context=PHONE) == "13812345678"
        assert cipher.reencrypt(old, context=PHONE).startswith(f"{cipher.alg}:k1:")

    def test_current_token_needs_no_rotation(self, cipher: FieldCipher) -> None:
        assert not cipher.needs_rotation(cipher.encrypt("x", context=PHONE))


class TestKeyringFile:
    def test_created_with_mode_0600_and_one_key(self, keyring_path: Path) -> None:
        keyring = Keyring.load_or_create(keyring_path)
        assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600
        raw = json.loads(keyring_path.read_text())
        assert raw["current"] == keyring.current_id == "k1"
        assert len(base64.b64decode(raw["keys"]["k1"])) == 32

    def test_loading_twice_keeps_the_key(self, keyring_path: Path) -> None:
        first = Keyring.load_or_create(keyring_path)
        assert Keyring.load_or_create(keyring_path).key("k1") == first.key("k1")

    def test_malformed_file_is_refused(self, keyring_path: Path) -> None:
        keyring_path.parent.mkdir(parents=True)
        keyring_path.write_text(json.dumps({"current": "k2", "keys": {"k1": "AAAA"}}))
        with pytest.raises(CryptoError):
            Keyring.load_or_create(keyring_path)


class TestServerSecret:
    def test_created_with_mode_0600_and_reused(self, tmp_path: Path) -> None:
        path = tmp_path / "data" / "secret.key"
        secret = load_server_secret(path)
        assert len(secret) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_server_secret(path) == secret

    def test_derived_keys_are_separate_per_purpose(self) -> None:
        secret = b"s" * 32
        assert derive_key(secret, "blind-index") == derive_key(secret, "blind-index")
        assert derive_key(secret, "blind-index") != derive_key(secret, "object-url")
        assert len(derive_key(secret, "object-url")) == 32


class TestBlindIndex:
    def test_phone_formats_share_an_index(self, cipher: FieldCipher) -> None:
        expected = cipher.blind_index("13812345678", kind="phone")
        for written in (
            "+86 138-1234-5678",
            "8613812345678",
            "0086 138 1234 5678",
            "１３８１２３４５６７８",
        ):
            assert cipher.blind_index(written, kind="phone") == expected

    def test_id_number_ignores_spaces_and_case(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index("110105 19491231 002x", kind="id_number") == cipher.blind_index(
            "11010519491231002X", kind="id_number"
        )

    def test_different_values_differ(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index("13812345678", kind="phone") != cipher.blind_index(
            "13812345679", kind="phone"
        )

    def test_different_keys_give_different_indexes(self, keyring: Keyring) -> None:
        one = FieldCipher(keyring, "std", b"a" * 32).blind_index("13812345678", kind="phone")
        two = FieldCipher(keyring, "std", b"b" * 32).blind_index("13812345678", kind="phone")
        assert one != two

    def test_kinds_do_not_correlate(self, cipher: FieldCipher) -> None:
        assert cipher.blind_index("13812345678", kind="phone") != cipher.blind_index(
            "13812345678", kind="text"
        )

    def test_index_depends_on_mode(self, keyring: Keyring) -> None:
        std = FieldCipher(keyring, "std", b"a" * 32).blind_index("13812345678", kind="phone")
        sm = FieldCipher(keyring, "sm", b"a" * 32).blind_index("13812345678", kind="phone")
        assert std != sm
        assert len(std) == len(sm) == 64

    def test_unknown_kind_is_refused(self, cipher: FieldCipher) -> None:
        with pytest.raises(ValueError, match="kind"):
            cipher.blind_index("x", kind="phones")


class TestMasking:
    @pytest.mark.req("DATA-13")
    @pytest.mark.parametrize(
        ("phone", "masked"),
        [("13812345678", "138****5678"), ("+86 138-1234-5678", "138****5678"), ("1234", "****")],
    )
    def test_phone(self, phone: str, masked: str) -> None:
        assert mask_phone(phone) == masked

    @pytest.mark.req("DATA-13")
    def test_id_number_keeps_first_and_last_four(self) -> None:
        assert mask_id_number("510104199001011234") == "5101**********1234"
        assert mask_id_number("11010519491231002x") == "1101**********002X"

    @pytest.mark.req("DATA-13")
    @pytest.mark.parametrize(
        ("name", "masked"),
        [
            ("张三丰", "张*丰"),
            ("张三", "张*"),
            ("欧阳娜娜", "欧**娜"),
            ("李", "*"),
            ("阿依古丽·买买提", "阿******提"),
            ("John Smith", "J*** S****"),
            ("Madonna", "M******"),
            ("", ""),
        ],
    )
    def test_name(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked


class TestValidation:
    @pytest.mark.parametrize(
        "number",
        ["11010519491231002X", "11010519491231002x", "440306198512310516", "320583197804291726"],
    )
    def test_valid_id_numbers(self, number: str) -> None:
        assert valid_id_number(number)

    @pytest.mark.parametrize(
        ("number", "why"),
        [
            ("110105194912310021", "wrong check digit"),
            ("510104199001011234", "wrong check digit"),
            ("510104199002300018", "30 February, check digit right"),
            ("510104209901010010", "born in the future, check digit right"),
            ("51010419900101123", "17 characters"),
            ("5101041990010112300", "19 characters"),
            ("51010419900101123A", "letter other than X"),
            ("", "empty"),
        ],
    )
    def test_invalid_id_numbers(self, number: str, why: str) -> None:
        assert not valid_id_number(number), why

    @pytest.mark.parametrize("phone", ["13812345678", "+86 138-1234-5678", "19912345678"])
    def test_valid_phones(self, phone: str) -> None:
        assert valid_phone(phone)

    @pytest.mark.parametrize(
        "phone", ["12812345678", "1381234567", "138123456789", "02887654321", ""]
    )
    def test_invalid_phones(self, phone: str) -> None:
        assert not valid_phone(phone)

    def test_phone_normalization_leaves_short_numbers_alone(self) -> None:
        assert normalize_phone("028-8765 4321") == "02887654321"
