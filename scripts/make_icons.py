#!/usr/bin/env python3
"""Draw the app's PNG icons (core/static/icons/) from the design of core/static/favicon.svg:
the two white arrows of a switchboard on the brand blue.

    .venv/bin/python scripts/make_icons.py

The web app manifest names them (core.pwa): ``icon-192.png`` and ``icon-512.png`` are the
favicon as it is, a rounded square on a transparent ground; the maskable ones fill the
square with blue and keep the arrows inside the safe zone (the central circle of 40 % of
the size's radius) that a launcher's mask never cuts; ``apple-touch-icon.png`` is filled
too, since iOS rounds the corners itself and would show transparent ones as black.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "core" / "static" / "icons"

# favicon.svg, in its 64-unit square.
BRAND = "#2f6fed"
CORNER_RADIUS = 14
STROKE = 6
# M16 24h26l-7-7 m13 23H22l7 7: an arrow to the right above one to the left.
ARROWS = [[(16, 24), (42, 24), (35, 17)], [(48, 40), (22, 40), (29, 47)]]
# The arrows reach 20.9 units from the centre (with their round caps), inside the maskable
# safe zone's 25.6 but close to a round mask's edge; at 0.8 they keep the favicon's margin.
MASKABLE_SCALE = 0.8
# Drawn this many times larger, then reduced: smooth edges without an anti-aliasing pen.
SUPERSAMPLE = 4


def draw(size: int, *, full_bleed: bool, scale: float = 1.0) -> Image.Image:
    big = size * SUPERSAMPLE
    unit = big / 64
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if full_bleed:
        pen.rectangle((0, 0, big, big), fill=BRAND)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER_RADIUS * unit, fill=BRAND)

    def at(point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        return ((32 + (x - 32) * scale) * unit, (32 + (y - 32) * scale) * unit)

    width = STROKE * scale * unit
    for arrow in ARROWS:
        points = [at(p) for p in arrow]
        pen.line(points, fill="white", width=round(width), joint="curve")
        for x, y in points:  # round caps and joins
            r = width / 2
            pen.ellipse((x - r, y - r, x + r, y + r), fill="white")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    icons = {
        "icon-192.png": draw(192, full_bleed=False),
        "icon-512.png": draw(512, full_bleed=False),
        "icon-maskable-192.png": draw(192, full_bleed=True, scale=MASKABLE_SCALE),
        "icon-maskable-512.png": draw(512, full_bleed=True, scale=MASKABLE_SCALE),
        "apple-touch-icon.png": draw(180, full_bleed=True).convert("RGB"),
    }
    for name, image in icons.items():
        image.save(ICONS / name, optimize=True)
        print(ICONS / name)


if __name__ == "__main__":
    main()
