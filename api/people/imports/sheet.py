"""The import file: its columns, the templates, reading CSV and XLSX, and each row's own checks.

Pure functions, no database: a row is checked here for what the row alone can tell (a phone, an
ID number's check digit, a relation, a room); the service checks it against the file's other rows
and the community (unknown unit, duplicates, persons already registered).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Final

from api.core.crypto import normalize_id_number, normalize_phone, valid_id_number, valid_phone

MAX_ROWS: Final = 20_000
MAX_BYTES: Final = 4_000_000

# (key, zh header, en header, required)
COLUMNS: Final = (
    ("building", "楼栋", "building", True),
    ("unit", "单元", "unit", True),
    ("room", "房号", "room", True),
    ("name", "姓名", "name", True),
    ("phone", "手机号", "phone", True),
    ("id_type", "证件类型", "id_type", True),
    ("id_number", "证件号码", "id_number", True),
    ("relation", "户内身份", "relation", True),
    ("category", "人员类别", "category", False),
    ("moved_in_on", "入住日期", "moved_in_on", False),
)
REQUIRED: Final = tuple(key for key, _, _, required in COLUMNS if required)
_HEADERS: Final = {h.casefold(): key for key, zh, en, _ in COLUMNS for h in (zh, en)}
EXAMPLE: Final = ("1", "1", "0302", "王小明", "13800138000", "身份证", "510104199001011230", "业主")

ID_TYPES: Final = {
    "身份证": "resident_id",
    "居民身份证": "resident_id",
    "resident_id": "resident_id",
}
RELATIONS: Final = {
    "业主": "owner",
    "owner": "owner",
    "家庭成员": "member",
    "成员": "member",
    "member": "member",
    "租户": "tenant",
    "tenant": "tenant",
}
CATEGORIES: Final = {
    "常住": "permanent",
    "常住人口": "permanent",
    "permanent": "permanent",
    "流动": "floating",
    "流动人口": "floating",
    "floating": "floating",
    "租户": "tenant",
    "tenant": "tenant",
}


class SheetError(Exception):
    """The file as a whole cannot be read: its code says why (the service turns it into a 400)."""

    def __init__(self, code: str, **extra: object) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass(frozen=True)
class Problem:
    """Why a row cannot be imported: the row's number in the file (the header is row 1)."""

    row: int
    field: str
    code: str


@dataclass
class Row:
    """A data row, its values normalised; `problems` empty when the row alone is fine."""

    line: int
    building: str
    unit: str
    room: str
    name: str
    phone: str
    id_number: str
    relation: str
    category: str
    moved_in_on: dt.date | None
    problems: list[Problem] = field(default_factory=list)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 1302 comes back as 1302.0
    if isinstance(value, dt.datetime):
        value = value.date()
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def place_number(value: str, *suffixes: str) -> str:
    """'3栋', '03', '3' → '3'; the number as posted, without its suffix or leading zeros."""
    for suffix in suffixes:
        value = value.removesuffix(suffix)
    return value.lstrip("0") or value


def _room(value: str) -> str | None:
    value = value.removesuffix("室")
    if re.fullmatch(r"\d{3,4}", value) is None:
        return None
    room = value.zfill(4)
    return room if room[:2] != "00" and room[2:] != "00" else None


def check_row(line: int, values: dict[str, str]) -> Row:
    """One row's own checks; every problem of the row is reported, not just the first."""
    problems: list[Problem] = []

    def bad(column: str, code: str) -> None:
        problems.append(Problem(line, column, code))

    name = values.get("name", "")
    if not 1 <= len(name) <= 50:
        bad("name", "invalid_name")
    phone = values.get("phone", "")
    if not valid_phone(phone):
        bad("phone", "invalid_phone")
    if ID_TYPES.get(values.get("id_type", "").casefold() or "身份证") is None:
        bad("id_type", "unsupported_id_type")
    id_number = values.get("id_number", "")
    if not valid_id_number(id_number):
        bad("id_number", "invalid_id_number")
    relation = RELATIONS.get(values.get("relation", "").casefold(), "")
    if not relation:
        bad("relation", "invalid_relation")
    given = values.get("category", "")
    category = CATEGORIES.get(given.casefold(), "") if given else ""
    if given and not category:
        bad("category", "invalid_category")
    category = category or ("tenant" if relation == "tenant" else "permanent")
    if relation == "owner" and category == "tenant":
        bad("relation", "invalid_relation")
    moved_in_on = None
    if values.get("moved_in_on"):
        try:
            moved_in_on = dt.date.fromisoformat(values["moved_in_on"].replace("/", "-"))
        except ValueError:
            bad("moved_in_on", "invalid_date")
    room = _room(values.get("room", ""))
    if room is None:
        bad("room", "invalid_room")
    building = place_number(values.get("building", ""), "号楼", "栋", "幢")
    unit = place_number(values.get("unit", ""), "单元")
    if not building:
        bad("building", "unknown_building")
    if not unit:
        bad("unit", "unknown_unit")
    return Row(
        line=line,
        building=building,
        unit=unit,
        room=room or "",
        name=name,
        phone=normalize_phone(phone),
        id_number=normalize_id_number(id_number),
        relation=relation or "member",
        category=category,
        moved_in_on=moved_in_on,
        problems=problems,
    )


# -- reading ------------------------------------------------------------------------------------


def kind_of(filename: str, data: bytes) -> str:
    """'xlsx' or 'csv' by the bytes (an XLSX is a zip) and the name; SheetError otherwise."""
    name = filename.lower()
    if data.startswith(b"PK\x03\x04") and name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".csv") and b"\x00" not in data[:4096]:
        return "csv"
    raise SheetError("not_a_sheet")


def _csv_rows(data: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("not_a_sheet")
    try:
        return [list(line) for line in csv.reader(io.StringIO(text))]
    except csv.Error as err:
        raise SheetError("not_a_sheet") from err


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook  # only when an XLSX comes: it is slow to import

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise SheetError("not_a_sheet") from err
    try:
        sheet = book.worksheets[0]
        rows: list[list[object]] = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                raise SheetError("too_many_rows", max_rows=MAX_ROWS)
        return rows
    finally:
        book.close()


def read(filename: str, data: bytes) -> list[Row]:
    """The checked data rows of a file; SheetError when the file itself is wrong."""
    if len(data) > MAX_BYTES:
        raise SheetError("file_too_large", max_bytes=MAX_BYTES)
    raw: list[list[object]] = (
        _xlsx_rows(data) if kind_of(filename, data) == "xlsx" else _csv_rows(data)
    )
    if not raw:
        raise SheetError("invalid_headers", missing=list(REQUIRED))
    keys = [_HEADERS.get(_text(h).casefold()) for h in raw[0]]
    missing = [key for key in REQUIRED if key not in keys]
    if missing:
        raise SheetError("invalid_headers", missing=missing)
    body = raw[1:]
    if len(body) > MAX_ROWS:
        raise SheetError("too_many_rows", max_rows=MAX_ROWS)
    rows = []
    for number, cells in enumerate(body, start=2):
        values = {k: _text(v) for k, v in zip(keys, cells, strict=False) if k is not None}
        if any(values.values()):  # blank lines are skipped, not reported
            rows.append(check_row(number, values))
    if not rows:
        raise SheetError("empty_sheet")
    return rows


# -- templates ----------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The CSV template: Chinese headers, one example row; UTF-8 with a BOM so Excel reads it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([zh for _, zh, _, _ in COLUMNS])
    writer.writerow([*EXAMPLE, "常住", "2024-05-01"])
    return ("\ufeff" + out.getvalue()).encode()


def template_xlsx() -> bytes:
    """The XLSX template: the same columns as text cells, so 0302 keeps its leading zero."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "住户导入"
    sheet.append([zh for _, zh, _, _ in COLUMNS])
    sheet.append([*EXAMPLE, "常住", "2024-05-01"])
    for column in sheet.iter_cols(min_row=1, max_row=200):
        for cell in column:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
