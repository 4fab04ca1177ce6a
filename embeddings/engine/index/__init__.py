"""Catalog views over stored features: exact (numpy brute force) and Annoy-backed, plus the index writer."""

from embeddings.engine.index.annoy_build import IndexParams, VersionWriter, read_manifest
from embeddings.engine.index.annoy_view import AnnoyCatalogView, IndexVerificationError, verify_index_version
from embeddings.engine.index.exact import ExactCatalogView
from embeddings.engine.index.store import IndexStore

__all__ = [
    "AnnoyCatalogView",
    "ExactCatalogView",
    "IndexParams",
    "IndexStore",
    "IndexVerificationError",
    "VersionWriter",
    "read_manifest",
    "verify_index_version",
]
