"""The shop's icon and bitmap pictures, drawn by our own code like the garments.

The icon is the shop's T-shirt (``garments.SHAPES``) in white on the accent colour. Browsers that take SVG icons get
``icon_svg``; the favicon, the home-screen icons and the pictures link previews show (Open Graph) are PNGs drawn by
the small rasterizer below: outlines flattened to polygons, filled with anti-aliased coverage, encoded with zlib.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
import struct
import zlib
from collections.abc import Sequence

from myclothes.domain.garments import SHAPES, colour_hex

ACCENT = "#1f4f8f"
PAPER = "#fbfaf7"
GARMENT_BACKGROUND = "#f6f5f2"
ICON_GARMENT = "tshirt"
FAVICON_SIZES = (16, 32, 48)

_LEVELS = 255
_SAMPLES = 5  # sample lines per pixel row; each full pixel of a line adds _UNIT, so a covered pixel is 255
_UNIT = _LEVELS // _SAMPLES

Point = tuple[float, float]
Polygon = list[Point]
RGB = tuple[int, int, int]


def _rgb(hex_colour: str) -> RGB:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


# --- outlines ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[MLQZ]|-?\d+(?:\.\d+)?")


def path_polygons(d: str, curve_steps: int = 10) -> list[Polygon]:
    """The closed polygons an SVG path of absolute ``M``/``L``/``Q``/``Z`` commands outlines (curves flattened)."""
    tokens = _TOKEN.findall(d)
    polygons: list[Polygon] = []
    current: Polygon = []
    index = 0
    command = ""
    while index < len(tokens):
        if tokens[index] in {"M", "L", "Q", "Z"}:
            command = tokens[index]
            index += 1
            if command == "Z":
                if current:
                    polygons.append(current)
                current = []
                continue
        numbers = [float(value) for value in tokens[index : index + (4 if command == "Q" else 2)]]
        index += len(numbers)
        if command == "M":
            if current:
                polygons.append(current)
            current = [(numbers[0], numbers[1])]
            command = "L"  # coordinates after a moveto are linetos
        elif command == "L":
            current.append((numbers[0], numbers[1]))
        elif command == "Q":
            (x0, y0), (cx, cy), (x1, y1) = current[-1], (numbers[0], numbers[1]), (numbers[2], numbers[3])
            for step in range(1, curve_steps + 1):
                t = step / curve_steps
                u = 1 - t
                current.append((u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1))
        else:
            raise ValueError(f"unsupported path command {command!r}")
    if current:
        polygons.append(current)
    return polygons


def rounded_rectangle(x: float, y: float, width: float, height: float, radius: float) -> Polygon:
    """A rectangle with circular corners, as a polygon."""
    points: Polygon = []
    corners = [
        (x + width - radius, y + radius, -90),
        (x + width - radius, y + height - radius, 0),
        (x + radius, y + height - radius, 90),
        (x + radius, y + radius, 180),
    ]
    for cx, cy, start in corners:
        for step in range(9):
            angle = math.radians(start + step * 90 / 8)
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _placed(polygons: Sequence[Polygon], scale: float, dx: float, dy: float) -> list[Polygon]:
    return [[(x * scale + dx, y * scale + dy) for x, y in polygon] for polygon in polygons]


def _bounds(polygons: Sequence[Polygon]) -> tuple[float, float, float, float]:
    xs = [x for polygon in polygons for x, _ in polygon]
    ys = [y for polygon in polygons for _, y in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def _fitted(polygons: Sequence[Polygon], left: float, top: float, width: float, height: float) -> list[Polygon]:
    """``polygons`` scaled uniformly to fit the box and centred in it."""
    x0, y0, x1, y1 = _bounds(polygons)
    scale = min(width / (x1 - x0), height / (y1 - y0))
    dx = left + (width - (x1 - x0) * scale) / 2 - x0 * scale
    dy = top + (height - (y1 - y0) * scale) / 2 - y0 * scale
    return _placed(polygons, scale, dx, dy)


# --- rasterizing ------------------------------------------------------------------------------------------------


def coverage(polygons: Sequence[Polygon], width: int, height: int) -> list[bytes]:
    """How much of each pixel (0..255) the polygons cover (non-zero winding, so overlapping polygons unite).

    Each pixel row is sampled on ``_SAMPLES`` horizontal lines; along a line the covered length is exact.
    """
    edges = [
        (polygon[i], polygon[(i + 1) % len(polygon)])
        for polygon in polygons
        for i in range(len(polygon))
        if polygon[i][1] != polygon[(i + 1) % len(polygon)][1]
    ]
    rows: list[bytes] = []
    for row in range(height):
        partial = [0] * (width + 1)
        steps = [0] * (width + 1)  # full-pixel runs, summed up afterwards
        active = [edge for edge in edges if min(edge[0][1], edge[1][1]) < row + 1 and max(edge[0][1], edge[1][1]) > row]
        for sample in range(_SAMPLES):
            y = row + (sample + 0.5) / _SAMPLES
            crossings: list[tuple[float, int]] = []
            for (xa, ya), (xb, yb) in active:
                if (ya <= y < yb) or (yb <= y < ya):
                    crossings.append((xa + (y - ya) * (xb - xa) / (yb - ya), 1 if yb > ya else -1))
            crossings.sort()
            winding = 0
            start = 0.0
            for x, direction in crossings:
                was_inside = winding != 0
                winding += direction
                if not was_inside and winding != 0:
                    start = x
                elif was_inside and winding == 0:
                    _add_span(partial, steps, max(0.0, start), min(float(width), x))
        rows.append(bytes(map(operator.add, itertools.accumulate(steps[:width]), partial[:width])))
    return rows


def _add_span(partial: list[int], steps: list[int], start: float, end: float) -> None:
    """Add one sample line's covered stretch; partial pixels round down, so a pixel never exceeds 255."""
    if end <= start:
        return
    first, last = int(start), int(end)
    if first == last:
        partial[first] += int((end - start) * _UNIT)
        return
    partial[first] += int((first + 1 - start) * _UNIT)
    steps[first + 1] += _UNIT
    steps[last] -= _UNIT
    partial[last] += int((end - last) * _UNIT)


Layer = tuple[list[bytes], RGB]


def composite(width: int, height: int, layers: Sequence[Layer], background: RGB | None) -> list[bytes]:
    """Rows of pixels, each layer painted over the last: RGB on ``background``, or RGBA from transparent."""
    rows: list[bytes] = []
    for y in range(height):
        row = bytearray()
        # Long runs of pixels share their coverages (inside, outside): paint each run once.
        for covers, run in itertools.groupby(zip(*(cover[y] for cover, _ in layers), strict=True)):
            row += _paint(covers, layers, background) * len(list(run))
        rows.append(bytes(row))
    return rows


def _paint(covers: tuple[int, ...], layers: Sequence[Layer], background: RGB | None) -> bytes:
    red, green, blue = background or (0, 0, 0)
    alpha = 1.0 if background else 0.0
    for level, (_, (layer_red, layer_green, layer_blue)) in zip(covers, layers, strict=True):
        if level == 0:
            continue
        c = level / _LEVELS
        new_alpha = c + alpha * (1 - c)
        red = round((layer_red * c + red * alpha * (1 - c)) / new_alpha)
        green = round((layer_green * c + green * alpha * (1 - c)) / new_alpha)
        blue = round((layer_blue * c + blue * alpha * (1 - c)) / new_alpha)
        alpha = new_alpha
    return bytes((red, green, blue)) if background else bytes((red, green, blue, round(alpha * 255)))


def encode_png(width: int, height: int, rows: Sequence[bytes], alpha: bool) -> bytes:
    """A PNG file (8-bit RGB or RGBA, no filtering) of the given pixel rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def encode_ico(pngs: Sequence[tuple[int, bytes]]) -> bytes:
    """An ICO file holding PNG images (``(size, png)`` pairs), as every current browser reads them."""
    offset = 6 + 16 * len(pngs)
    directory = b""
    for size, png in pngs:
        edge = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    return struct.pack("<HHH", 0, 1, len(pngs)) + directory + b"".join(png for _, png in pngs)


# --- the shop's pictures ----------------------------------------------------------------------------------------


def _icon_shirt(size: float, inset: float) -> list[Polygon]:
    return _fitted(path_polygons(SHAPES[ICON_GARMENT]), inset, inset, size - 2 * inset, size - 2 * inset)


def icon_svg() -> str:
    """The shop's icon as SVG: a white T-shirt on a rounded accent square."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{ACCENT}"/>'
        '<g transform="translate(32 33) scale(0.235) translate(-100 -118)">'
        f'<path d="{SHAPES[ICON_GARMENT]}" fill="#fff"/></g></svg>'
    )


def icon_png(size: int, *, maskable: bool = False) -> bytes:
    """The icon as a ``size`` x ``size`` PNG.

    The plain icon is a rounded square with transparent corners. ``maskable`` fills the whole square, keeps the
    T-shirt inside the middle 80% a launcher may cut to, and is opaque: what home screens and Apple want.
    """
    accent, white = _rgb(ACCENT), (255, 255, 255)
    if maskable:
        shirt = _icon_shirt(size, size * 0.24)
        return encode_png(size, size, composite(size, size, [(coverage(shirt, size, size), white)], accent), False)
    square = [rounded_rectangle(0, 0, size, size, size * 0.22)]
    shirt = _icon_shirt(size, size * (0.14 if size < 32 else 0.17))
    layers = [(coverage(square, size, size), accent), (coverage(shirt, size, size), white)]
    return encode_png(size, size, composite(size, size, layers, None), True)


def favicon_ico() -> bytes:
    """``/favicon.ico``: the icon at 16, 32 and 48 pixels."""
    return encode_ico([(size, icon_png(size)) for size in FAVICON_SIZES])


def _luminance(colour: RGB) -> float:
    red, green, blue = colour
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def garment_png(garment: str, colour: str, width: int, height: int) -> bytes:
    """``garment`` in ``colour`` as a PNG (the picture link previews show), with a darker outline like the SVG."""
    fill = _rgb(colour_hex(colour))
    outline = tuple(max(0, int(channel * 0.7)) for channel in fill)
    background = _rgb(GARMENT_BACKGROUND) if _luminance(fill) < 0.85 else (214, 211, 204)
    shape = _fitted(path_polygons(SHAPES.get(garment, SHAPES["tshirt"])), 0, height * 0.06, width, height * 0.88)
    edge = height / 160
    rim = [
        [(x + edge * math.cos(angle), y + edge * math.sin(angle)) for x, y in polygon]
        for polygon in shape
        for angle in (math.pi * k / 4 for k in range(8))
    ]
    layers = [
        (coverage(rim, width, height), (outline[0], outline[1], outline[2])),
        (coverage(shape, width, height), fill),
    ]
    return encode_png(width, height, composite(width, height, layers, background), False)
