"""Licence plates: one normaliser, one format check, one matcher — for the bridge and the platform.

Pure functions and one small index, no I/O: the bridge decides a read with them offline and the
platform normalises what residents type and what police search with the same rules, so a plate
registered as "川a·12345" and a camera's "川A12345" are one key everywhere. It lives in
`device_bridge` (which never imports `api`) and the platform may import it next to `protocol`
(import-linter contract in pyproject.toml; docs/decisions.md).

Normalising: NFKC (full-width "ＡＢ１" → "AB1"), separators and spaces out, upper case; then by
position, as mainland plates are issued: the city letter (second character) is a letter, so "0"
there reads "O"; serial characters never use the letters I and O (GA 36), so "O" there reads "0"
and "I" reads "1". A read without its province character (cameras often drop the Chinese
character) takes the site's province when one is given.

Formats (`classify`): "standard" (province, city letter, 5 letters or digits: 7), "new_energy"
(8: D/F and 5 digits for small cars, 5 digits and D/F for large ones), the special classes with a
trailing character — "police" 警, "coach" 学, "trailer" 挂, "consulate" 领, "hk_macau" 港/澳 — and
"embassy" (使 and 6 digits).

Matching (`match`): exact first; where the site allows it, one known plate at edit distance 1
(one character misread, dropped or added), and only when exactly one is that close, so a misread
last character does not strand a resident and an ambiguous read matches nobody. The bridge holds
plates only as keyed digests and the platform only as blind indexes, so the near plates are
generated (`neighbours`) and looked up one by one rather than compared.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final, Literal, TypeVar

T = TypeVar("T")
PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
HK_MACAU: Final = "港澳"
SEPARATORS: Final = re.compile(r"[\s·•・.\-_]+")
PlateClass = Literal[
    "standard", "new_energy", "police", "coach", "trailer", "consulate", "hk_macau", "embassy"
]
SPECIAL_SUFFIXES: Final[dict[str, PlateClass]] = {
    "警": "police",
    "学": "coach",
    "挂": "trailer",
    "领": "consulate",
}

_P = f"[{PROVINCES}]"
_SERIAL = "[A-HJ-NP-Z0-9]"  # letters but I and O, and digits
_FORMATS: Final[tuple[tuple[PlateClass, re.Pattern[str]], ...]] = (
    ("standard", re.compile(f"{_P}[A-Z]{_SERIAL}{{5}}")),
    ("new_energy", re.compile(f"{_P}[A-Z](?:[DF][A-HJ-NP-Z0-9][0-9]{{4}}|[0-9]{{5}}[DF])")),
    ("embassy", re.compile("使[0-9]{6}")),
    ("hk_macau", re.compile(f"粤Z{_SERIAL}{{4}}[{HK_MACAU}]")),
    *(
        (cls, re.compile(f"{_P}[A-Z]{_SERIAL}{{4}}{suffix}"))
        for suffix, cls in SPECIAL_SUFFIXES.items()
    ),
)


def normalise(text: str, *, province: str = "") -> str:
    """The plate as one key: half-width, upper case, no separators, O/0 and I/1 by position, and
    the site's `province` in front of a read that lacks one. Never raises; check with `classify`."""
    plate = SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if province and plate and plate[0].isascii() and 6 <= len(plate) <= 7:
        plate = province + plate
    if not plate or plate[0] not in PROVINCES:
        return plate
    chars = list(plate)
    if len(chars) > 1 and chars[1] == "0":
        chars[1] = "O"
    for i in range(2, len(chars)):
        chars[i] = {"O": "0", "I": "1"}.get(chars[i], chars[i])
    return "".join(chars)


def classify(plate: str) -> PlateClass | None:
    """The plate's class, or None when it fits no format (check a normalised plate)."""
    for cls, pattern in _FORMATS:
        if pattern.fullmatch(plate):
            return cls
    return None


def is_valid(plate: str) -> bool:
    """Whether a normalised plate fits one of the formats."""
    return classify(plate) is not None


def within_one(a: str, b: str) -> bool:
    """Whether the edit distance (one substitution, insertion or deletion) is at most 1."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


_ALPHABET: Final = (
    PROVINCES + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(SPECIAL_SUFFIXES) + HK_MACAU + "使"
)


def neighbours(plate: str) -> set[str]:
    """Every valid plate one edit away (one character replaced, dropped or added), itself not
    included. About a thousand candidates are tried for a 7-character plate: this is what lets
    a matcher that holds only keyed digests (the bridge) or blind indexes (the platform) find a
    plate one character off, by looking each neighbour up."""
    found: set[str] = set()
    for i in range(len(plate) + 1):
        if i < len(plate):
            found.add(plate[:i] + plate[i + 1 :])
            found.update(plate[:i] + c + plate[i + 1 :] for c in _ALPHABET)
        found.update(plate[:i] + c + plate[i:] for c in _ALPHABET)
    found.discard(plate)
    return {p for p in found if is_valid(p)}


def match(
    read: str, lookup: Callable[[str], T | None], *, fuzzy: bool
) -> tuple[str, T] | tuple[None, None]:
    """(the known plate this read is, what `lookup` knows of it): the read itself when known;
    with `fuzzy`, the one known plate within one edit — none when two are that close, so an
    ambiguous read matches nobody; else (None, None)."""
    found = lookup(read)
    if found is not None:
        return read, found
    if fuzzy:
        near = [(p, f) for p in sorted(neighbours(read)) if (f := lookup(p)) is not None]
        if len(near) == 1:
            return near[0]
    return None, None
