"""The fake-embedder fixtures (index fault tests need embeddings, not the real model)."""

from embeddings.tests.fake_pipeline import _own_index_dir, fake_backbone  # noqa: F401
