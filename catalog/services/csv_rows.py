"""Read a catalog CSV: detect its layout from the header and turn each line into a checked CatalogRow."""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import Product
from catalog.services.csv_encoding import CsvEncodingError, csv_decode
from catalog.services.report import ImportReport, Problem

KAGGLE = "fashion-product-images"
GENERIC = "generic"
# The public "Fashion Product Images" styles.csv, in its column order; the last column may hold unquoted commas.
KAGGLE_COLUMNS = {
    "id": "external_id",
    "gender": "gender",
    "masterCategory": "master_category",
    "subCategory": "sub_category",
    "articleType": "article_type",
    "baseColour": "base_colour",
    "season": "season",
    "year": "year",
    "usage": "usage",
    "productDisplayName": "name",
}
# Header names of a generic CSV, compared lower-case without spaces, dashes or underscores.
ID_NAMES = {"id", "externalid", "sku", "productid"}
IMAGE_NAMES = {"image", "imagepath", "imagefile", "image_path", "file", "filename", "photo", "picture"}
FIELD_SYNONYMS = {
    "productdisplayname": "name",
    "title": "name",
    "color": "base_colour",
    "colour": "base_colour",
    "basecolor": "base_colour",
    "category": "master_category",
    "subcategory": "sub_category",
    "type": "article_type",
}
TEXT_FIELDS = ("name", "gender", "master_category", "sub_category", "article_type", "base_colour", "season", "usage")
YEAR_RANGE = (1900, 2100)
# Cells longer than this are refused: no catalog cell needs more, and the csv module's default is 128 KiB.
MAX_CELL_CHARS = 10_000


class CatalogFileError(Exception):
    """The file as a whole cannot be read (missing, empty, unknown header): nothing was imported."""


@dataclass(frozen=True)
class CatalogRow:
    """One good CSV line: Product field values, extra attributes and where its image should be."""

    line: int
    external_id: str
    fields: dict[str, object]
    # None: the layout has no extra columns, so the stored attributes are left alone.
    attributes: dict[str, str] | None
    image: str = ""
    # Kaggle layout: the image path is derived from the id, so a missing file just means "no photo".
    image_derived: bool = False
    warnings: list[Problem] = field(default_factory=list)


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@dataclass(frozen=True)
class Layout:
    """How the columns of one CSV map onto Product: which index is the id, the name, the image, each field."""

    name: str
    header: list[str]
    id_index: int
    field_indexes: dict[str, int]
    image_index: int | None
    attribute_indexes: dict[str, int]


def layout_detect(*, header: list[str]) -> Layout:
    """Recognise the Kaggle styles.csv or a generic CSV (id, name, image, attributes) from the header."""
    header = [h.strip() for h in header]
    if not any(header):
        raise CatalogFileError("the first line (header) is empty")
    if set(KAGGLE_COLUMNS) <= set(header):
        indexes = {KAGGLE_COLUMNS[h]: i for i, h in enumerate(header) if h in KAGGLE_COLUMNS}
        id_index = indexes.pop("external_id")
        extra = {h: i for i, h in enumerate(header) if h not in KAGGLE_COLUMNS and h}
        return Layout(KAGGLE, header, id_index, indexes, None, extra)
    product_fields = {_normalise(f): f for f in ("name", *TEXT_FIELDS, "year")}
    id_index = image_index = None
    field_indexes: dict[str, int] = {}
    attribute_indexes: dict[str, int] = {}
    for i, column in enumerate(header):
        key = _normalise(column)
        if not key:
            continue
        if key in ID_NAMES and id_index is None:
            id_index = i
        elif key in {_normalise(n) for n in IMAGE_NAMES} and image_index is None:
            image_index = i
        elif (target := product_fields.get(key) or FIELD_SYNONYMS.get(key)) and target not in field_indexes:
            field_indexes[target] = i
        else:
            attribute_indexes[column] = i
    if id_index is None:
        raise CatalogFileError(
            f"header {header!r} has no id column: expected the Fashion Product Images columns "
            f"({', '.join(KAGGLE_COLUMNS)}) or a generic CSV with id, name, image and attribute columns"
        )
    if "name" not in field_indexes:
        raise CatalogFileError(f"header {header!r} has no name column (name, title or productDisplayName)")
    return Layout(GENERIC, header, id_index, field_indexes, image_index, attribute_indexes)


def csv_text_read(*, csv_path: Path, report: ImportReport) -> str:
    """The file's text: UTF-8 (with or without BOM), else UTF-16 with a BOM or Windows-1252, with a warning."""
    try:
        data = Path(csv_path).read_bytes()
    except OSError as exc:
        raise CatalogFileError(f"cannot read {csv_path}: {exc.strerror or exc}") from exc
    try:
        decoded = csv_decode(data=data)
    except CsvEncodingError as exc:
        raise CatalogFileError(str(exc)) from None
    if decoded.note:
        report.add(Problem(None, "encoding", decoded.note, level="warning"))
    return decoded.text


def _lines(text: str, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every CSV record; records the csv module cannot parse become failed problems."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.failed += 1
            report.add(Problem(start, "row", f"unreadable CSV: {exc}"))
            continue
        yield start, cells


def _year(value: str) -> int | None:
    number = float(value)  # "2011" and "2011.0" (files saved by pandas) are both fine
    if not number.is_integer() or not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
        raise ValueError(value)
    return int(number)


def _field_values(
    layout: Layout, line: int, cells: list[str], warnings: list[Problem]
) -> tuple[dict[str, object], Problem | None]:
    """Product field values of one record, or the problem that stops it (missing id, cell too long)."""
    external_id = cells[layout.id_index]
    id_column = layout.header[layout.id_index]
    if not external_id:
        return {}, Problem(line, id_column, "missing id")
    if len(external_id) > Product._meta.get_field("external_id").max_length:
        return {}, Problem(line, id_column, "id longer than 64 characters", external_id[:64])
    too_long = next((layout.header[i] for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS), None)
    if too_long:
        return {}, Problem(line, too_long, f"cell longer than {MAX_CELL_CHARS} characters", external_id)
    values: dict[str, object] = {}
    for name, index in layout.field_indexes.items():
        value, column = cells[index], layout.header[index]
        if name == "year":
            try:
                values["year"] = _year(value) if value else None
            except ValueError:
                reason = f"{value!r} is not a year ({YEAR_RANGE[0]}-{YEAR_RANGE[1]}): ignored"
                warnings.append(Problem(line, column, reason, external_id, "warning"))
            continue
        limit = Product._meta.get_field(name).max_length
        if len(value) > limit:
            return {}, Problem(line, column, f"{len(value)} characters, at most {limit}", external_id)
        values[name] = value
    return values, None


def _row_from_cells(layout: Layout, line: int, cells: list[str], report: ImportReport) -> CatalogRow | None:
    """Check one record; None (with the problem recorded and counted) when it cannot be imported."""
    warnings: list[Problem] = []
    expected = len(layout.header)
    if layout.name == KAGGLE and len(cells) > expected and layout.field_indexes["name"] == expected - 1:
        joined = ",".join(cells[expected - 1 :])
        cells = cells[: expected - 1] + [joined]
        warnings.append(Problem(line, "productDisplayName", "unquoted commas in the name: joined", level="warning"))
    if len(cells) != expected:
        report.failed += 1
        report.add(Problem(line, "row", f"{len(cells)} columns instead of {expected}"))
        return None
    cells = [c.replace("\x00", "").strip() for c in cells]
    external_id = cells[layout.id_index]
    values, problem = _field_values(layout, line, cells, warnings)
    if problem is not None:
        report.failed += 1
        report.add(problem)
        return None
    if not values.get("name"):
        values["name"] = f"{values.get('article_type') or 'Product'} {external_id}"
        warnings.append(Problem(line, "name", f"empty name: set to {values['name']!r}", external_id, "warning"))
    attributes = None
    if layout.name == GENERIC:
        attributes = {col: cells[i] for col, i in layout.attribute_indexes.items() if cells[i]}
    if layout.image_index is not None:
        image, derived = cells[layout.image_index], False
    elif layout.name == KAGGLE:
        image, derived = f"images/{external_id}.jpg", True
    else:
        image, derived = "", False
    return CatalogRow(line, external_id, values, attributes, image, derived, warnings)


def catalog_rows(
    *, text: str, report: ImportReport, limit: int | None = None, mentioned: set[str] | None = None
) -> tuple[Layout, Iterator[CatalogRow]]:
    """The layout and an iterator of good rows; bad and duplicate rows are counted and reported as they pass.

    `mentioned` collects every id the file names, good row or not (for orphan photos and --deactivate-missing).
    """
    records = _lines(text, report)
    header = next(records, None)
    if header is None:
        raise CatalogFileError("the file is empty: no header line")
    layout = layout_detect(header=header[1])
    report.layout = layout.name

    def rows() -> Iterator[CatalogRow]:
        first_line: dict[str, int] = {}
        taken = 0
        for line, cells in records:
            if not any(c.strip() for c in cells):
                continue  # blank line
            if limit is not None and taken >= limit:
                return
            taken += 1
            if mentioned is not None and len(cells) > layout.id_index:
                mentioned.add(cells[layout.id_index].strip())
            row = _row_from_cells(layout, line, cells, report)
            if row is None:
                continue
            if row.external_id in first_line:
                report.skipped += 1
                report.add(
                    Problem(
                        line,
                        "id",
                        f"duplicate id, first on line {first_line[row.external_id]}: skipped",
                        row.external_id,
                    )
                )
                continue
            first_line[row.external_id] = line
            yield row

    return layout, rows()


def csv_count_rows(*, text: str) -> int:
    """Number of non-blank records after the header (for progress bars)."""
    try:
        return max(0, sum(1 for cells in csv.reader(io.StringIO(text, newline="")) if any(cells)) - 1)
    except csv.Error:
        return text.count("\n")
