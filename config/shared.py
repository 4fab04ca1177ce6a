"""Where the shared inputs live (sample catalog, reference outputs): `../shared` beside the checkout by default."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("LOOKAWAY_SHARED_DIR", str(BASE_DIR.parent / "shared"))).resolve()
SHARED_CATALOG = SHARED_DIR / "catalog"
SHARED_CATALOG_IMAGES = SHARED_CATALOG / "images"
SHARED_REFERENCE = SHARED_DIR / "reference"
