"""Catalog services: the one import behind `manage.py import_catalog` and the admin's import page."""

from catalog.services.csv_rows import CatalogFileError
from catalog.services.importing import DEFAULT_BATCH_SIZE, catalog_import
from catalog.services.report import ImportReport, Problem

__all__ = ["DEFAULT_BATCH_SIZE", "CatalogFileError", "ImportReport", "Problem", "catalog_import"]
