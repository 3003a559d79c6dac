"""QR label sheets: an A4 page of 3 x 7 labels, each a QR code with a name, a code and a place
(`print_labels`). An asset's QR code encodes `<public_url>/report/<label code>`, the page where
anyone who finds the asset broken can report it without logging in (work orders); a patrol
checkpoint's sheet (`api/patrol/points.py`) is set by the same function.

Chinese needs a font with its glyphs, and the PDF core fonts have none. `label_font` looks for one
in this order: the `ANJU_LABEL_FONT` setting, fontconfig's font for `zh-cn` (when it really holds
Chinese glyphs), then the usual paths of Debian, macOS and Windows. With none, the sheet still
prints, in Helvetica with each character outside Latin-1 as `?`: the QR code and the asset code,
which are what a reader needs, stay whole.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import segno
import structlog
from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF
from fpdf.enums import WrapMode
from PIL import Image

from api.devices.ledger.schemas import AssetRead

log = structlog.get_logger()

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
PROBE = "安居报修"  # glyphs a label font must have

COLUMNS, ROWS = 3, 7
LABEL_W, LABEL_H = 70.0, 297.0 / 7  # mm: A4 in 21 labels, the common 3 x 7 label stock
QR_SIZE = 30.0  # mm


def has_chinese(path: Path) -> bool:
    """Whether the font file (the first of a collection) has glyphs for PROBE."""
    try:
        if path.suffix.lower() == ".ttc":
            font = TTCollection(str(path), lazy=True).fonts[0]
        else:
            font = TTFont(str(path), lazy=True)
        cmap = font.getBestCmap() or {}
    except Exception:  # an unreadable or foreign file is no font for us
        return False
    return all(ord(c) in cmap for c in PROBE)


def _fontconfig() -> Path | None:
    fc = shutil.which("fc-match")
    if fc is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [fc, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


@lru_cache(maxsize=4)
def label_font(configured: Path | None) -> Path | None:
    """The font label sheets are set in; None: Latin only (see the module's docstring)."""
    candidates = [configured, _fontconfig(), *map(Path, KNOWN_FONTS)]
    for path in candidates:
        if (
            path is not None
            and path.suffix.lower() in {".ttf", ".otf", ".ttc"}
            and path.is_file()
            and has_chinese(path)
        ):
            return path
    log.warning("ledger.labels.no_chinese_font", configured=str(configured))
    return None


def report_url(public_url: str, label_code: str) -> str:
    """What a label's QR code encodes."""
    return f"{public_url.rstrip('/')}/report/{label_code}"


def _qr_image(data: str) -> Image.Image:
    """The QR code as a 1-bit picture, 8 pixels a module, a 2-module quiet zone (segno's own PNG
    writer is pure Python and takes ten times as long)."""
    rows = [list(row) for row in segno.make(data, error="m").matrix_iter(scale=1, border=2)]
    size = len(rows)
    picture = Image.new("1", (size, size))
    picture.putdata([0 if dark else 1 for row in rows for dark in row])
    return picture.resize((size * 8, size * 8), Image.Resampling.NEAREST)


class Label(NamedTuple):
    """One label of a sheet: the QR code's text and the lines printed beside it."""

    qr: str  # what the QR code encodes
    title: str  # the thing's name
    code: str  # the code a person reads or types (ASCII)
    place: str  # where it is
    footer: str  # what the label is for


def print_labels(labels: Sequence[Label], *, title: str, font: Path | None) -> bytes:
    """The PDF of label sheets, in order, 21 to a page (the asset labels and the patrol
    checkpoints' labels are both set here)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_creator("Anju")
    if font is not None:
        pdf.add_font("label", fname=str(font))
        family = "label"

        def text(s: str) -> str:
            return s

    else:
        family = "helvetica"

        def text(s: str) -> str:
            return s.encode("latin-1", "replace").decode("latin-1")

    for i, label in enumerate(labels):
        if i % (COLUMNS * ROWS) == 0:
            pdf.add_page()
        col, row = i % COLUMNS, (i // COLUMNS) % ROWS
        x, y = col * LABEL_W, row * LABEL_H
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x + 1, y + 1, LABEL_W - 2, LABEL_H - 2)
        pdf.image(_qr_image(label.qr), x=x + 2, y=y + (LABEL_H - QR_SIZE) / 2, w=QR_SIZE, h=QR_SIZE)
        left, width = x + QR_SIZE + 3, LABEL_W - QR_SIZE - 5
        pdf.set_xy(left, y + 4)
        pdf.set_font(family, size=9)
        pdf.multi_cell(width, 4.2, text(label.title[:26]), new_x="LEFT")
        pdf.set_xy(left, y + 14)
        if len(label.code) <= 14:  # an asset code: one line
            pdf.set_font(family, size=10)
            pdf.cell(width, 5, label.code)
        else:  # a longer code (a checkpoint's): small, broken anywhere, on two lines
            pdf.set_font(family, size=6)
            pdf.multi_cell(width, 2.6, label.code, new_x="LEFT", wrapmode=WrapMode.CHAR)
        pdf.set_font(family, size=7)
        pdf.set_xy(left, y + 20)
        pdf.multi_cell(width, 3.4, text(label.place[:40]), new_x="LEFT")
        pdf.set_xy(left, y + LABEL_H - 8)
        pdf.cell(width, 3.4, text(label.footer))
    return bytes(pdf.output())


def sheet(labels: Sequence[tuple[AssetRead, str]], *, public_url: str, font: Path | None) -> bytes:
    """The PDF of label sheets for (asset, place text) pairs, in order, 21 to a page."""
    return print_labels(
        [
            Label(
                qr=report_url(public_url, asset.label_code or ""),
                title=asset.name,
                code=asset.asset_code,
                place=place or asset.community_name,
                footer="扫码报修 Scan to report",
            )
            for asset, place in labels
        ],
        title="Anju asset labels",
        font=font,
    )
