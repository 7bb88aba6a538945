"""Product images: SVG garments drawn by our own code, in the variant's colour."""

from __future__ import annotations

import hashlib
from html import escape

PALETTE: dict[str, str] = {
    "black": "#1f1f1f",
    "white": "#f4f4f0",
    "grey": "#8a8d91",
    "navy": "#1f2f5c",
    "blue": "#2f6fd1",
    "sky": "#87bde8",
    "red": "#c0392b",
    "burgundy": "#7a1f34",
    "green": "#2e8b57",
    "olive": "#6b7030",
    "yellow": "#e8c23a",
    "orange": "#e67e22",
    "pink": "#e79ab8",
    "purple": "#7d4fa3",
    "beige": "#d8c3a0",
    "brown": "#7b5234",
}

# Outlines on a 200 x 240 canvas, one per garment kind.
SHAPES: dict[str, str] = {
    "tshirt": "M60 30 L85 22 Q100 36 115 22 L140 30 L182 62 L162 92 L142 80 L142 214 L58 214 L58 80 L38 92 L18 62 Z",
    "shirt": "M62 28 L88 20 L100 40 L112 20 L138 28 L176 70 L176 206 L152 206 L150 92 L146 216 L54 216 "
    "L50 92 L48 206 L24 206 L24 70 Z",
    "hoodie": "M70 40 Q100 -2 130 40 L176 64 L186 204 L160 206 L150 100 L150 218 L50 218 L50 100 L40 206 "
    "L14 204 L24 64 Z",
    "jacket": "M64 26 L90 20 L100 52 L110 20 L136 26 L180 62 L184 212 L158 212 L152 100 L152 222 L48 222 "
    "L48 100 L42 212 L16 212 L20 62 Z",
    "trousers": "M58 18 L142 18 L150 226 L110 226 L100 90 L90 226 L50 226 Z",
    "dress": "M76 18 L92 18 Q100 32 108 18 L124 18 L130 70 L118 96 L168 226 L32 226 L82 96 L70 70 Z",
    "skirt": "M64 40 L136 40 L176 206 L24 206 Z",
    "shorts": "M52 40 L148 40 L158 170 L112 174 L100 104 L88 174 L42 170 Z",
    "sweater": "M66 28 Q100 44 134 28 L176 58 L190 200 L164 204 L150 98 L150 214 L50 214 L50 98 L36 204 "
    "L10 200 L24 58 Z",
}


def colour_hex(colour: str) -> str:
    """The colour's hex code; a name outside the palette gets a stable colour derived from its name."""
    known = PALETTE.get(colour.lower())
    if known:
        return known
    digest = hashlib.sha256(colour.lower().encode()).hexdigest()
    return f"#{digest[:6]}"


def _shade(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, int(c * 0.7)) for c in (red, green, blue)))


def draw_garment(garment: str, colour: str, label: str = "") -> str:
    """An SVG document showing ``garment`` in ``colour``."""
    shape = SHAPES.get(garment, SHAPES["tshirt"])
    fill = colour_hex(colour)
    title = escape(label or f"{colour} {garment}")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 240" width="400" height="480" role="img">'
        f"<title>{title}</title>"
        '<rect width="200" height="240" fill="#f6f5f2"/>'
        f'<path d="{shape}" fill="{fill}" stroke="{_shade(fill)}" stroke-width="3" stroke-linejoin="round"/>'
        "</svg>"
    )
