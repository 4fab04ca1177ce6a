"""A tiny catalog folder made of real catalog photos (styles.csv rows + images/), for the gallery tests."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from config.shared import SHARED_CATALOG

# Four products of each of four types, including the seeds of four committed gallery cases.
TINY_IDS = (
    [10008, 10005, 10024, 10030]  # Tshirts
    + [10168, 10160, 10152, 10176]  # Casual Shoes
    + [10202, 10197, 10199, 10211]  # Handbags
    + [10131, 10098, 10136, 10192]  # Watches
)


@pytest.fixture(scope="session")
def tiny_catalog_dir(tmp_path_factory) -> Path:
    """A catalog folder (styles.csv, images/) with the TINY_IDS products copied from the shared catalog."""
    folder = tmp_path_factory.mktemp("tiny-catalog")
    (folder / "images").mkdir()
    wanted = {str(i) for i in TINY_IDS}
    with open(SHARED_CATALOG / "styles.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["id"] in wanted]
        fields = reader.fieldnames
    assert len(rows) == len(TINY_IDS)
    return write_catalog(folder, rows, fields)


def write_catalog(folder: Path, rows: list[dict], fields) -> Path:
    """styles.csv with these rows and their photos copied from the shared catalog into `folder`."""
    with open(folder / "styles.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        shutil.copyfile(SHARED_CATALOG / "images" / f"{row['id']}.jpg", folder / "images" / f"{row['id']}.jpg")
    return folder


SMALL_TYPES = ("Tshirts", "Casual Shoes")
SMALL_PER_TYPE = 36  # above the protocol's 30 products per articleType, so episodes can be drawn


@pytest.fixture(scope="session")
def small_catalog_dir(tmp_path_factory) -> Path:
    """A catalog folder with the first 36 men's products of two articleTypes from the shared catalog."""
    folder = tmp_path_factory.mktemp("small-catalog")
    (folder / "images").mkdir()
    taken: dict[str, int] = {}
    rows = []
    with open(SHARED_CATALOG / "styles.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        for row in reader:
            kind = row["articleType"]
            if kind in SMALL_TYPES and row["gender"] == "Men" and taken.get(kind, 0) < SMALL_PER_TYPE:
                taken[kind] = taken.get(kind, 0) + 1
                rows.append(row)
    return write_catalog(folder, rows, fields)
