"""The gallery's fixed cases: a product, the region a shopper paints on its photo, and why it was chosen."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

FRAME = 224  # regions are drawn in a 224 x 224 frame of the seed photo (the catalog's image size)
CASE_KEYS = {"name", "product", "label", "why", "rectangles", "polygons", "notes", "notes_after"}


class CaseError(ValueError):
    """A gallery case that cannot be used; the message names the case and the field."""


@dataclass(frozen=True)
class GalleryCase:
    """One (product, painted region) pair; shapes are in FRAME x FRAME coordinates of the seed photo."""

    name: str
    product_id: int
    label: str
    why: str
    rectangles: tuple[tuple[float, float, float, float], ...] = ()
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    notes: str = ""  # what a shopper would think of the rendered slates (written by a person looking at them)
    notes_after: tuple[int, ...] = field(default=())  # the after-feedback slate the notes were written for

    def shapes(self, width: int, height: int) -> list[list[tuple[float, float]]]:
        """Every shape as a polygon in the pixels of a width x height photo."""
        sx, sy = width / FRAME, height / FRAME
        shapes = [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, y0, x1, y1 in self.rectangles]
        shapes += [list(points) for points in self.polygons]
        return [[(x * sx, y * sy) for x, y in shape] for shape in shapes]

    def mask(self, width: int, height: int) -> np.ndarray:
        """The painted region as a (height, width) bool mask of the photo."""
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        for shape in self.shapes(width, height):
            draw.polygon(shape, fill=255)
        return np.asarray(canvas) > 0


def load_cases(path: str | Path, known_ids: Collection[int] | None = None) -> list[GalleryCase]:
    """Read and validate the cases file (TOML, one [[case]] table each); known_ids: the catalog's product ids."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{path}: cannot read the cases file: {exc}") from exc
    tables = data.get("case")
    if not isinstance(tables, list) or not tables:
        raise CaseError(f"{path}: no [[case]] tables")
    known = None if known_ids is None else {int(i) for i in known_ids}
    cases, names = [], set()
    for number, table in enumerate(tables, start=1):
        case = parse_case(table, f"case {number} ({table.get('name', 'unnamed')!s})", known)
        if case.name in names:
            raise CaseError(f"case {number} ({case.name}): the name is used by an earlier case")
        names.add(case.name)
        cases.append(case)
    return cases


def parse_case(table: dict, where: str, known_ids: Collection[int] | None = None) -> GalleryCase:
    """One case from its TOML table; `where` names it in errors."""
    unknown = sorted(set(table) - CASE_KEYS)
    if unknown:
        raise CaseError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("name", "label", "why"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise CaseError(f"{where}: '{key}' must be a non-empty string")
    product = table.get("product")
    if not isinstance(product, int) or isinstance(product, bool):
        raise CaseError(f"{where}: 'product' must be an integer product id")
    if known_ids is not None and product not in known_ids:
        raise CaseError(f"{where}: product {product} is not in the catalog")
    rectangles = tuple(_rectangle(r, f"{where}: rectangles[{i}]") for i, r in enumerate(table.get("rectangles", [])))
    polygons = tuple(_polygon(p, f"{where}: polygons[{i}]") for i, p in enumerate(table.get("polygons", [])))
    if not rectangles and not polygons:
        raise CaseError(f"{where}: give at least one of 'rectangles' or 'polygons'")
    notes_after = table.get("notes_after", [])
    if not isinstance(notes_after, list) or not all(isinstance(p, int) for p in notes_after):
        raise CaseError(f"{where}: 'notes_after' must be a list of product ids")
    return GalleryCase(
        name=table["name"].strip(),
        product_id=product,
        label=table["label"].strip(),
        why=table["why"].strip(),
        rectangles=rectangles,
        polygons=polygons,
        notes=str(table.get("notes", "")).strip(),
        notes_after=tuple(notes_after),
    )


def _point(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise CaseError(f"{where}: expected a point [x, y], got {value!r}")
    x, y = float(value[0]), float(value[1])
    if not (0 <= x <= FRAME and 0 <= y <= FRAME):
        raise CaseError(f"{where}: point ({x:g}, {y:g}) is outside the {FRAME}x{FRAME} image")
    return x, y


def _rectangle(value: object, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, Sequence) or len(value) != 4:
        raise CaseError(f"{where}: expected [x0, y0, x1, y1], got {value!r}")
    (x0, y0), (x1, y1) = _point(value[:2], where), _point(value[2:], where)
    if x1 <= x0 or y1 <= y0:
        raise CaseError(f"{where}: needs x0 < x1 and y0 < y1, got {list(value)!r}")
    return x0, y0, x1, y1


def _polygon(value: object, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, Sequence) or len(value) < 3:
        raise CaseError(f"{where}: a polygon needs at least 3 points [[x, y], ...]")
    return tuple(_point(p, f"{where}[{i}]") for i, p in enumerate(value))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
