"""A licence plate's picture, rendered: the sim camera's snapshot and the recogniser's test input.

Drawn with Pillow in the plate's colours (GA 36): blue with white characters for an ordinary
car, the white-to-green gradient with black characters for a new-energy one (8 characters),
yellow with black characters for a large vehicle (a truck or bus). The Chinese province character
needs a CJK font: WenQuanYi Micro Hei where the system has it (Debian: fonts-wqy-microhei), else
any CJK font found, else DejaVu Sans or Pillow's built-in font — then the province character is
not legible, and only the Latin part can be read from the picture. Nothing is downloaded.

The picture is a JPEG: a plate of 440 × 140 (480 × 140 for new-energy), the size in millimetres,
on a dark margin like a camera's crop, scaled by half by default (244 × 94): about 6 KB.
"""

from __future__ import annotations

import functools
import glob
import io
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

PlateColour = Literal["blue", "green", "yellow"]
CJK_FONTS: Final = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
LATIN_FONTS: Final = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
_COLOURS: Final[dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    "blue": ((0, 72, 168), (255, 255, 255)),  # background, characters
    "yellow": ((248, 196, 0), (0, 0, 0)),
    "green": ((126, 214, 110), (0, 0, 0)),  # the gradient's lower colour
}
MARGIN: Final = 24


def colour_of(plate: str, vehicle_type: str = "car") -> PlateColour:
    """The plate's colour: green for 8 characters (new-energy), yellow for a large vehicle."""
    if len(plate) == 8:
        return "green"
    return "yellow" if vehicle_type in ("truck", "bus") else "blue"


@functools.cache
def font_file() -> tuple[str, bool]:
    """(the font file, whether it draws Chinese): a CJK font when the system has one."""
    found = [f for f in CJK_FONTS if glob.glob(f)]
    found += sorted(glob.glob("/usr/share/fonts/**/*[Ww][Qq][Yy]*.tt[cf]", recursive=True))
    found += sorted(glob.glob("/usr/share/fonts/**/*CJK*.tt[cf]", recursive=True))
    if found:
        return found[0], True
    latin = [f for f in LATIN_FONTS if glob.glob(f)]
    return (latin[0] if latin else ""), False


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path, _ = font_file()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _glyph(
    char: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    ink: tuple[int, int, int],
    background: tuple[int, int, int],
) -> Image.Image:
    """The character's shape as a mask (L), cropped to its ink."""
    mask = Image.new("L", (140, 140), 0)
    ImageDraw.Draw(mask).text((70, 70), char, font=font, fill=255, anchor="mm")
    box = mask.getbbox() or (0, 0, 1, 1)
    return mask.crop(box)


@functools.lru_cache(maxsize=512)  # the same cars come again: ~25 ms a picture drawn
def render(
    plate: str, colour: PlateColour | None = None, *, scale: float = 0.5, quality: int = 80
) -> bytes:
    """The plate as a JPEG image, at `scale` of the plate's size in millimetres."""
    colour = colour or colour_of(plate)
    width, height = (480 if len(plate) == 8 else 440), 140
    background, ink = _COLOURS[colour]
    face = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(face)
    if colour == "green":  # white at the top to green at the bottom
        for y in range(height):
            t = y / (height - 1)
            shade = tuple(round(255 + (c - 255) * t) for c in background)
            draw.line([(0, y), (width, y)], fill=shade)  # type: ignore[arg-type]
    border = (255, 255, 255) if colour == "blue" else (0, 0, 0)
    draw.rounded_rectangle([4, 4, width - 5, height - 5], radius=10, outline=border, width=3)
    font = _font(96)
    # Characters evenly spaced, with the gap after the city letter (the dot), each condensed to
    # its slot as plate characters are (45 × 90 mm).
    step = (width - 30) / (len(plate) + 1)
    x = 15.0
    for i, char in enumerate(plate):
        if i == 2:
            cx = x + step / 2
            draw.ellipse([cx - 6, height / 2 - 6, cx + 6, height / 2 + 6], fill=ink)
            x += step
        glyph = _glyph(char, font, ink, background)
        w, h = round(min(step * 0.86, glyph.width)), 96
        mask = glyph.resize((w, h), Image.Resampling.LANCZOS)
        face.paste(Image.new("RGB", (w, h), ink), (round(x + (step - w) / 2), 22), mask)
        x += step
    picture = Image.new("RGB", (width + 2 * MARGIN, height + 2 * MARGIN), (38, 40, 44))
    picture.paste(face, (MARGIN, MARGIN))
    if scale != 1:
        size = (round(picture.width * scale), round(picture.height * scale))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=quality)
    return out.getvalue()
