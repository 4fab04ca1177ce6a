"""Draw one gallery case with Pillow: the seed with its paint, the plain slate and the slate after feedback."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from evaluation.gallery.cases import GalleryCase
from evaluation.gallery.shopper import CaseSlates

SEED_SIZE = 224  # the seed is shown at the catalog's native size
THUMB = 120  # slate thumbnails
GAP = 8
MARGIN = 12
CAPTION = 32  # two caption lines under each thumbnail
TITLE = 24  # the title line above each slate row
COLUMNS = 8
PALETTE_COLOURS = 192  # the PNG is stored with a palette: about a fifth of the size of RGB, photos still readable
PAINT = (230, 30, 60)
OTHER_TYPE = (200, 0, 0)
TEXT, QUIET = (20, 20, 20), (110, 110, 110)


@dataclass(frozen=True)
class ProductInfo:
    """What a caption shows about a product, and its photo."""

    article_type: str
    gender: str
    colour: str
    path: str


def product_lookup(catalog) -> Callable[[int], ProductInfo]:
    """A product-id lookup over an EvalCatalog-like object (product_ids, article_type, gender, colour, paths)."""
    rows = {int(p): i for i, p in enumerate(catalog.product_ids)}

    def info(product_id: int) -> ProductInfo:
        i = rows[int(product_id)]
        return ProductInfo(
            str(catalog.article_type[i]), str(catalog.gender[i]), str(catalog.colour[i]), str(catalog.paths[i])
        )

    return info


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """Shorten text with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def painted_seed(case: GalleryCase, path: str, size: int = SEED_SIZE) -> Image.Image:
    """The seed photo at size x size with the painted region tinted and outlined."""
    with Image.open(path) as img:
        photo = img.convert("RGB")
    photo = photo.resize((size, size), Image.Resampling.LANCZOS) if photo.size != (size, size) else photo
    mask = Image.fromarray(case.mask(size, size).astype("uint8") * 110)  # 110/255: the tint's opacity
    tinted = Image.composite(Image.new("RGB", photo.size, PAINT), photo, mask)
    draw = ImageDraw.Draw(tinted)
    for shape in case.shapes(size, size):
        draw.polygon(shape, outline=PAINT, width=2)
    return tinted


def _thumbnail(path: str) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB").resize((THUMB, THUMB), Image.Resampling.LANCZOS)


def _slate_row(
    canvas: Image.Image, top: int, title: str, ids: Sequence[int], seed: ProductInfo, info, earlier: set[int]
) -> None:
    draw = ImageDraw.Draw(canvas)
    draw.text((MARGIN, top + 4), title, fill=TEXT, font=_font(15))
    small, tiny = _font(13), _font(11)
    for col, product_id in enumerate(ids):
        x, y = MARGIN + col * (THUMB + GAP), top + TITLE
        product = info(product_id)
        canvas.paste(_thumbnail(product.path), (x, y))
        other = product.article_type != seed.article_type
        if other:
            draw.rectangle([x, y, x + THUMB - 1, y + THUMB - 1], outline=OTHER_TYPE, width=3)
        draw.text(
            (x, y + THUMB + 2),
            _fit(draw, product.article_type, small, THUMB),
            fill=OTHER_TYPE if other else TEXT,
            font=small,
        )
        details = f"{product.gender}, {product.colour}" + (" (also above)" if product_id in earlier else "")
        draw.text((x, y + THUMB + 18), _fit(draw, details, tiny, THUMB), fill=QUIET, font=tiny)


def render_case(slates: CaseSlates, info: Callable[[int], ProductInfo]) -> Image.Image:
    """The case's picture: row 1 the painted seed and its description, rows 2 and 3 the slates (8 thumbnails)."""
    case = slates.case
    seed = info(case.product_id)
    width = 2 * MARGIN + COLUMNS * THUMB + (COLUMNS - 1) * GAP
    row = TITLE + THUMB + CAPTION
    canvas = Image.new("RGB", (width, MARGIN + SEED_SIZE + MARGIN + 2 * (row + MARGIN)), "white")
    canvas.paste(painted_seed(case, seed.path), (MARGIN, MARGIN))
    draw = ImageDraw.Draw(canvas)
    left = MARGIN + SEED_SIZE + 2 * MARGIN
    draw.text((left, MARGIN), case.label, fill=TEXT, font=_font(22))
    draw.text(
        (left, MARGIN + 34),
        f"Seed {case.product_id}: {seed.article_type}, {seed.gender}, {seed.colour}",
        fill=TEXT,
        font=_font(15),
    )
    lines = textwrap.wrap("Why: " + case.why, width=92)[:5]
    for i, line in enumerate(lines):
        draw.text((left, MARGIN + 62 + 18 * i), line, fill=QUIET, font=_font(13))
    legend = "Painted region: tinted and outlined. Red caption and frame: not the seed's product type."
    draw.text((left, MARGIN + SEED_SIZE - 16), legend, fill=QUIET, font=_font(12))
    top = MARGIN + SEED_SIZE + MARGIN
    _slate_row(canvas, top, "Plain slate (visually similar)", slates.plain.product_ids, seed, info, set())
    earlier = set(slates.plain.product_ids)
    after_title = "After feedback on the painted region"
    _slate_row(canvas, top + row + MARGIN, after_title, slates.after.product_ids, seed, info, earlier)
    return canvas


def save_png(image: Image.Image, path: str | Path) -> Path:
    """Store the picture as a small palette PNG (deterministic: same image, same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    small = image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, format="PNG", optimize=True)
    return path
