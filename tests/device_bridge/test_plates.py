"""Plates: one normaliser, one format check and one matcher, for the bridge and the platform."""

from __future__ import annotations

import pytest

from device_bridge.plates import classify, is_valid, match, neighbours, normalise, within_one

pytestmark = pytest.mark.req("VEH-01", partial=True)


@pytest.mark.parametrize(
    ("text", "province", "expected"),
    [
        ("川A12345", "", "川A12345"),
        ("川a12345", "", "川A12345"),  # lower case
        ("川Ａ１２３４５", "", "川A12345"),  # full-width letters and digits
        ("川A·12345", "", "川A12345"),  # the dot printed on plates
        (" 川 A-123 45 ", "", "川A12345"),  # spaces and dashes
        ("川A1234O", "", "川A12340"),  # O in a serial place is a zero
        ("川AI2345", "", "川A12345"),  # I in a serial place is a one
        ("川0A234", "", "川OA234"),  # 0 in the city place is the letter O
        ("A12345", "川", "川A12345"),  # the camera dropped the province: the site's
        ("AD12345", "川", "川AD12345"),  # also for a new-energy plate
        ("A12345", "", "A12345"),  # no site province: left for the format check to refuse
        ("京A12345", "川", "京A12345"),  # a read with its province keeps it
        ("川A1234警", "", "川A1234警"),
        ("", "川", ""),
        ("使０１４５７８", "", "使014578"),
    ],
)
def test_a_plate_is_normalised_to_one_key(text: str, province: str, expected: str) -> None:
    assert normalise(text, province=province) == expected


@pytest.mark.parametrize(
    ("plate", "cls"),
    [
        ("川A12345", "standard"),
        ("川AB1234", "standard"),
        ("京Q7K2M9", "standard"),
        ("川AD12345", "new_energy"),  # small new-energy: D or F then 5
        ("川AFK2345", "new_energy"),  # small new-energy: a letter after the D or F
        ("川A12345D", "new_energy"),  # large new-energy: 5 digits then D or F
        ("川A1234警", "police"),
        ("川A1234学", "coach"),
        ("川A1234挂", "trailer"),
        ("沪A1234领", "consulate"),
        ("粤Z1234港", "hk_macau"),
        ("粤Z1234澳", "hk_macau"),
        ("使014578", "embassy"),
        ("川A1234", None),  # too short
        ("川A123456", None),  # 8 characters but no new-energy letter
        ("川AD1234", "standard"),  # 7 characters: an ordinary plate that has a D
        ("川A12I45", None),  # I is never issued in a serial place
        ("XA12345", None),  # no province
        ("川112345", None),  # the city place is a letter
        ("川A12345警", None),  # a special class has 4 serial characters
        ("京Z1234港", None),  # Hong Kong and Macau plates are 粤Z
        ("使01457", None),
        ("", None),
    ],
)
def test_the_format_check_knows_each_class(plate: str, cls: str | None) -> None:
    assert classify(plate) == cls
    assert is_valid(plate) is (cls is not None)


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("川A12345", "川A12345", True),
        ("川A12345", "川A12346", True),  # a misread last character
        ("川A12345", "川A1245", True),  # a dropped character
        ("川A12345", "川A123456", True),  # an extra character
        ("川A12345", "川A12354", False),  # two swapped characters are two edits
        ("川A12345", "川B12346", False),
        ("川A12345", "川A123", False),
    ],
)
def test_edit_distance_of_one(a: str, b: str, near: bool) -> None:
    assert within_one(a, b) is near
    assert within_one(b, a) is near


def test_the_neighbours_of_a_plate_are_the_valid_plates_one_edit_away() -> None:
    near = neighbours("川A12345")
    assert "川A12345" not in near
    assert {"川A12346", "京A12345", "川AD12345", "川A12345D", "川A1234警"} <= near
    assert "川A1234" not in near  # one edit away but no plate
    assert all(within_one("川A12345", p) and is_valid(p) for p in near)


KNOWN = {"川A12345": "resident", "川AD12345": "new energy"}


def test_an_exact_read_matches_without_fuzz() -> None:
    assert match("川A12345", KNOWN.get, fuzzy=False) == ("川A12345", "resident")
    assert match("川A12346", KNOWN.get, fuzzy=False) == (None, None)


def test_a_misread_last_character_matches_where_the_site_allows_it() -> None:
    assert match("川A12346", KNOWN.get, fuzzy=True) == ("川A12345", "resident")
    assert match("川AD1234S", KNOWN.get, fuzzy=True) == ("川AD12345", "new energy")  # S for 5
    assert match("川AD123SS", KNOWN.get, fuzzy=True) == (None, None)  # two characters off
    assert match("川AD12346", KNOWN.get, fuzzy=True) == ("川AD12345", "new energy")
    assert match("川A12399", KNOWN.get, fuzzy=True) == (None, None)


def test_an_ambiguous_read_matches_nobody() -> None:
    known = {"川A12345": 1, "川A12347": 2}
    assert match("川A12346", known.get, fuzzy=True) == (None, None)
    assert match("川A12347", known.get, fuzzy=True) == ("川A12347", 2)  # exact wins
