"""Import files for the tests and the benchmark: households of community A's building 1, unit 1."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date, timedelta

from api.core.crypto import id_check_digit
from api.people.imports.sheet import COLUMNS

HEADER = [zh for _, zh, _, _ in COLUMNS]


def id_number(i: int, salt: int) -> str:
    """The i-th of a run's valid resident ID numbers (distinct for i < 36,500 in one salt)."""
    born = date(1940, 1, 1) + timedelta(days=i % 18_000)
    body = f"510104{born:%Y%m%d}{(salt + i // 18_000) % 1000:03d}"
    return body + id_check_digit(body)


ROOMS_PER_UNIT = 17 * 99  # floors 01-17, rooms 01-99


def rows(count: int, *, households: int | None = None) -> list[list[str]]:
    """`count` persons of building 1 in `households` (default a third as many) households, the
    first of each its owner; units 1, 2, … hold 1,683 households each."""
    households = households or max(count // 3, 1)
    salt, prefix = secrets.randbelow(1000), 130 + secrets.randbelow(10)
    out, last = [], -1
    for i in range(count):
        home = i * households // count
        unit, at = divmod(home, ROOMS_PER_UNIT)
        room = f"{1 + at // 99:02d}{1 + at % 99:02d}"
        relation = "业主" if home != last else "家庭成员"
        last = home
        phone = f"{prefix}{salt:03d}{i:05d}"
        cells = [str(unit + 1), room, f"住户{i}", phone, "身份证", id_number(i, salt), relation]
        out.append(["1", *cells, "", ""])
    return out


def csv_file(body: list[list[str]], header: list[str] = HEADER) -> bytes:
    """A CSV of the template's columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue().encode()
