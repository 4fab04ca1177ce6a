"""Fixtures for session and feedback tests: a small real shop with the real model, clients, mask builders."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
from django.db import transaction
from django.test import Client
from PIL import Image

from feedback.tests.shop import (
    ShopCatalog,
    shop_backbone,
    shop_build_index,
    shop_features,
    shop_install,
    shop_rows,
)


@pytest.fixture(scope="session")
def shop_engine(tmp_path_factory) -> ShopCatalog:
    """The shop's ids and real features by the configured backbone (no database; computed once, cached on disk)."""
    rows = shop_rows()
    ids = [int(row["id"]) for row in rows]
    by_type: dict[str, list[int]] = {}
    for row in rows:
        by_type.setdefault(row["articleType"], []).append(int(row["id"]))
    backbone = shop_backbone()
    features = shop_features(backbone, ids)
    index_dir = tmp_path_factory.mktemp("shop-index")
    return ShopCatalog(product_ids=ids, by_type=by_type, features=features, backbone=backbone, index_dir=index_dir)


@pytest.fixture(scope="session")
def _shop_index(django_db_setup, django_db_blocker, shop_engine: ShopCatalog) -> None:
    """Build the shop's index once per test session, from rows that are rolled back (the DB stays clean)."""
    with django_db_blocker.unblock(), transaction.atomic():
        shop_install(features=shop_engine.features, backbone_version=shop_engine.backbone.version)
        shop_build_index(backbone_version=shop_engine.backbone.version, index_dir=shop_engine.index_dir)
        transaction.set_rollback(True)


def _wants_transactions(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    return bool({"transactional_db", "live_server"} & names) or bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture
def shop_catalog(
    request: pytest.FixtureRequest, _shop_index, shop_engine: ShopCatalog, settings
) -> Iterator[ShopCatalog]:
    """The shop in the database for this test only, served by the real get_recommender() through its Annoy index.

    Works for plain `db` tests (rows rolled back with the test) and for transactional / live_server tests (rows
    flushed after the test): the storefront's browser tests use it too. The shop's index lives in its own
    directory (settings.LOOKAWAY_INDEX_DIR points there during the test).
    """
    from embeddings.serving.catalog_reloader import reset_catalog_view
    from embeddings.serving.shared_recommender import reset_recommender

    request.getfixturevalue("transactional_db" if _wants_transactions(request) else "db")
    settings.LOOKAWAY_INDEX_DIR = shop_engine.index_dir
    shop_install(features=shop_engine.features, backbone_version=shop_engine.backbone.version)
    reset_catalog_view()
    reset_recommender()
    yield shop_engine
    reset_catalog_view()
    reset_recommender()


def png_data_url(mask: np.ndarray, *, mode: str = "RGBA") -> str:
    """A PNG data URL of a bool (H, W) mask: painted pixels opaque red (RGBA) or white (L / RGB), others clear."""
    if mode == "RGBA":
        pixels = np.zeros((*mask.shape, 4), dtype=np.uint8)
        pixels[mask] = (255, 0, 0, 255)
    elif mode == "RGB":
        pixels = np.zeros((*mask.shape, 3), dtype=np.uint8)
        pixels[mask] = (255, 255, 255)
    else:
        pixels = (mask * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def rle_counts(mask: np.ndarray) -> list[int]:
    """Run-length counts of a bool mask, row-major, alternating unpainted/painted, starting with unpainted."""
    flat = mask.reshape(-1).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    return counts if flat[0] == 0 else [0, *counts]


def box_mask(width: int, height: int, box: tuple[float, float, float, float]) -> np.ndarray:
    """A bool (height, width) mask painted inside the box given as fractions (left, top, right, bottom)."""
    left, top, right, bottom = box
    mask = np.zeros((height, width), dtype=bool)
    mask[int(top * height) : int(bottom * height), int(left * width) : int(right * width)] = True
    return mask


@pytest.fixture
def api_client() -> Client:
    """A browser-like client that must send the CSRF token like a real browser (enforce_csrf_checks)."""
    return CsrfClient()


class CsrfClient(Client):
    """Django test client with CSRF enforced that fetches and sends the token on unsafe requests."""

    def __init__(self, **kwargs) -> None:
        super().__init__(enforce_csrf_checks=True, **kwargs)

    def token(self) -> str:
        """The CSRF token for this client's cookie (set on first use)."""
        from django.middleware.csrf import _get_new_csrf_string

        cookie = self.cookies.get("csrftoken")
        if cookie is None:
            self.cookies["csrftoken"] = _get_new_csrf_string()
            cookie = self.cookies["csrftoken"]
        return cookie.value

    def generic(self, method, path, data="", content_type="application/octet-stream", secure=False, **extra):
        if method.upper() not in ("GET", "HEAD", "OPTIONS", "TRACE") and extra.pop("csrf", True):
            extra.setdefault("HTTP_X_CSRFTOKEN", self.token())
        return super().generic(method, path, data, content_type, secure=secure, **extra)
