"""Embedding and index services: the write side of the embeddings app."""

from embeddings.services.embedding import embed_images_batch, embedding_mark_stale, images_pending
from embeddings.services.embedding_scheduling import schedule_embedding
from embeddings.services.index_builder import index_build
from embeddings.services.index_versions import index_activate, index_rollback

__all__ = [
    "embed_images_batch",
    "embedding_mark_stale",
    "images_pending",
    "index_activate",
    "index_build",
    "index_rollback",
    "schedule_embedding",
]
