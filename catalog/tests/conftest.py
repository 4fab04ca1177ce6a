"""Fixtures for catalog tests: a sample of the real catalog copied into tmp_path, media in tmp_path."""

import csv
import io
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from config.shared import SHARED_CATALOG as SHARED_CATALOG_DIR

SHARED_CATALOG = SHARED_CATALOG_DIR
SAMPLE_SIZE = 200


def catalog_header_and_rows() -> tuple[list[str], list[list[str]]]:
    """The shared styles.csv as a header and rows."""
    with (SHARED_CATALOG / "styles.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a CSV file (csv module quoting)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Each test stores photos in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sample_rows() -> tuple[list[str], list[list[str]]]:
    """SAMPLE_SIZE real rows spread over the whole catalog (every 45th)."""
    header, rows = catalog_header_and_rows()
    step = len(rows) // SAMPLE_SIZE
    return header, rows[::step][:SAMPLE_SIZE]


@pytest.fixture
def sample_catalog(tmp_path: Path, sample_rows) -> Path:
    """A catalog folder (styles.csv + images/) with SAMPLE_SIZE real products."""
    header, rows = sample_rows
    folder = tmp_path / "catalog"
    (folder / "images").mkdir(parents=True)
    for row in rows:
        shutil.copyfile(SHARED_CATALOG / "images" / f"{row[0]}.jpg", folder / "images" / f"{row[0]}.jpg")
    write_csv(folder / "styles.csv", header, rows)
    return folder


@pytest.fixture
def scheduled(monkeypatch) -> list[list[int]]:
    """Record the image ids handed to embeddings.services.schedule_embedding instead of embedding them."""
    import embeddings.services

    calls: list[list[int]] = []
    monkeypatch.setattr(embeddings.services, "schedule_embedding", lambda *, image_ids: calls.append(list(image_ids)))
    return calls


def real_image(external_id: str) -> Image.Image:
    """One real catalog photo, decoded."""
    return Image.open(SHARED_CATALOG / "images" / f"{external_id}.jpg").convert("RGB")


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Image bytes in a format."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header declares a huge size (a decompression bomb)."""
    data = encode(Image.new("L", (1, 1)), "PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    start = 8  # after the PNG signature: length(4) + "IHDR" + data(13) + crc(4)
    return data[:start] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[start + 25 :]
