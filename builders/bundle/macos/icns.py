"""The app's icon as an Apple .icns, made from the manifest's square PNG with Pillow.

`icns_bytes(png)` returns the .icns (PNG-coded members 32 to 1024 px, as Finder and the
Dock want for Retina screens) or raises ConfigError naming the file and the fix. The
bytes depend only on the PNG and the pinned Pillow (no timestamps in PNG or ICNS).
"""
from __future__ import annotations

import io
from pathlib import Path

from ...errors import ConfigError

# The sizes Pillow's ICNS writer stores (one member per Retina slot uses the same data).
SIZES = (32, 64, 128, 256, 512, 1024)


def icns_bytes(png: Path) -> bytes:
    """The .icns for the PNG at `png`; each size is resampled from it with Lanczos."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(png) as src:
            fmt = src.format
            image = src.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError(f"{png}: cannot read the icon ({exc}); [app].icon must be a PNG file") from None
    if fmt != "PNG":
        raise ConfigError(f"{png}: the icon is {fmt}, not PNG; convert it to a square PNG "
                          "(1024x1024 looks sharpest on macOS)")
    if image.width != image.height:
        raise ConfigError(f"{png}: the icon is {image.width}x{image.height}; macOS icons are square, "
                          "crop or pad it to a square PNG (1024x1024 looks sharpest)")
    sized = [image.resize((s, s), Image.Resampling.LANCZOS) for s in SIZES]
    out = io.BytesIO()
    sized[-1].save(out, format="ICNS", append_images=sized)
    return out.getvalue()
