"""The fake-embedder fixtures shared by the pipeline and index tests."""

from embeddings.tests.fake_pipeline import _own_index_dir, fake_backbone  # noqa: F401
