"""Reference for bench/glyph_bench.ts: renders the 62 characters of every .ttf under DIR with
PIL's FreeType renderer into SIZE x SIZE grayscale images (one scale per font, centred), as a
Python data pipeline would, and prints one JSON line {"glyphs": N, "seconds": S,
"glyphs_per_s": R}. Run with /usr/bin/python3 (python3-pil).
"""
import argparse
import json
import os
import string
import time

from PIL import Image, ImageDraw, ImageFont

CHARS = string.ascii_uppercase + string.ascii_lowercase + string.digits


def render_font(path, size):
    font = ImageFont.truetype(path, int(size * 0.7))
    glyphs = []
    for ch in CHARS:
        image = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(image)
        left, top, right, bottom = draw.textbbox((0, 0), ch, font=font)
        x = (size - (right - left)) / 2 - left
        y = (size - (bottom - top)) / 2 - top
        draw.text((x, y), ch, fill=255, font=font)
        glyphs.append(image.tobytes())
    return glyphs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    fonts = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(args.dir)
        for name in names
        if name.endswith(".ttf")
    )
    start = time.perf_counter()
    count = sum(len(render_font(path, args.size)) for path in fonts)
    seconds = time.perf_counter() - start
    print(json.dumps({"glyphs": count, "seconds": seconds, "glyphs_per_s": count / seconds}))


if __name__ == "__main__":
    main()
