"""Draws the app icons (public/icons/*.png, icon.svg): a 3×3 grid with a location pin.

Run once with the project's venv (Pillow): .venv/bin/python pwa/scripts/make_icons.py.
The PNGs are committed; the build only copies them.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "public" / "icons"
BLUE, WHITE, ORANGE = (11, 92, 173), (255, 255, 255), (245, 130, 32)


def draw(size: int, maskable: bool) -> Image.Image:
    img = Image.new("RGBA", (size, size), BLUE if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 512
    if not maskable:
        d.rounded_rectangle([0, 0, size - 1, size - 1], radius=int(96 * s), fill=BLUE)
    pad = (150 if maskable else 110) * s  # the maskable safe zone is the inner 80 %
    cell = (size - 2 * pad) / 3
    for i in range(4):
        w = max(2, int(14 * s))
        d.line([(pad + i * cell, pad), (pad + i * cell, size - pad)], fill=WHITE, width=w)
        d.line([(pad, pad + i * cell), (size - pad, pad + i * cell)], fill=WHITE, width=w)
    cx, cy, r = pad + 1.5 * cell, pad + 1.2 * cell, cell * 0.55
    d.polygon([(cx - r * 0.8, cy + r * 0.45), (cx + r * 0.8, cy + r * 0.45), (cx, cy + r * 1.9)],
              fill=ORANGE)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ORANGE)
    d.ellipse([cx - r * 0.4, cy - r * 0.4, cx + r * 0.4, cy + r * 0.4], fill=WHITE)
    return img


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
<rect width="512" height="512" rx="96" fill="#0b5cad"/>
<g stroke="#fff" stroke-width="14">
<path d="M110 110v292M207 110v292M305 110v292M402 110v292M110 110h292M110 207h292M110 305h292M110 402h292"/>
</g>
<path d="M202 277h108l-54 118z" fill="#f58220"/>
<circle cx="256" cy="227" r="54" fill="#f58220"/><circle cx="256" cy="227" r="21" fill="#fff"/>
</svg>
"""

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, False).save(OUT / "icon-192.png", optimize=True)
    draw(512, False).save(OUT / "icon-512.png", optimize=True)
    draw(512, True).save(OUT / "maskable-512.png", optimize=True)
    (OUT / "icon.svg").write_text(SVG)
