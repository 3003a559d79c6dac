"""Password hashing (argon2id) and the password policy (GB/T 22239: length, classes, not common).

Length and classes alone let `Aaaaaaaaa1` through; the variety rules (distinct characters, no long
run of one character) refuse such padding without a dictionary-strength library.
"""

from __future__ import annotations

import re
import secrets
import string
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.core.errors import InvalidInput

MIN_LENGTH = 10
MIN_CLASSES = 3
MIN_DISTINCT = 6
MAX_RUN = 3  # the same character at most 3 times in a row
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(InvalidInput):
    """The new password breaks the policy."""

    code = "weak_password"


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A valid hash of a random password: checked for unknown users so timing does not reveal them.
DUMMY_HASH = _hasher.hash("dummy-password-never-used")


@cache
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def _classes(password: str) -> int:
    groups = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    count = sum(any(c in group for c in password) for group in groups)
    return count + any(not c.isascii() or not c.isalnum() for c in password)


def check_policy(
    password: str,
    *,
    username: str = "",
    min_length: int = MIN_LENGTH,
    min_classes: int = MIN_CLASSES,
) -> None:
    """Raise WeakPassword unless the password has `min_length`+ characters of `min_classes`
    classes (the security policy's, api/accounts/policy.py; 10 and 3 at the floor), 6+ distinct
    ones, no character 4 times in a row, is not common and does not contain the user name."""
    if len(password) < min_length:
        raise WeakPassword(f"The password must have at least {min_length} characters.")
    if _classes(password) < min_classes:
        raise WeakPassword(
            f"The password must mix at least {min_classes} of: lower case, upper case, digits,"
            " symbols."
        )
    if len(set(password)) < MIN_DISTINCT:
        raise WeakPassword(f"The password must use at least {MIN_DISTINCT} different characters.")
    if re.search(rf"(.)\1{{{MAX_RUN}}}", password):
        raise WeakPassword(f"No character may repeat more than {MAX_RUN} times in a row.")
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip("!@#$%.1234567890") in _common():
        raise WeakPassword("This password is too common.")
    if username and username.lower() in lowered:
        raise WeakPassword("The password must not contain the user name.")


# No look-alikes (0/O, 1/l/I): the one-time password is read out or copied by hand.
_PLAIN = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password() -> str:
    """A password an administrator hands over once ("Kp7x-3mQa-9Rtz"): it meets the policy, and
    its holder must change it at the next login."""
    while True:
        password = "-".join("".join(secrets.choice(_PLAIN) for _ in range(4)) for _ in range(3))
        try:
            check_policy(password)
        except WeakPassword:
            continue
        return password
