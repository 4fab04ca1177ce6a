"""Batched embedding of files: every input answered once, bad files reported, results equal to direct features."""

import numpy as np
import pytest

from embeddings.engine.pipeline import embed_files
from embeddings.engine.preprocess import ImageDecodeError
from embeddings.tests.conftest import catalog_image_path, catalog_square


@pytest.fixture(scope="module")
def sources(catalog_ids, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(catalog_image_path(catalog_ids[0]).read_bytes()[:300])
    text = folder / "notes.png"
    text.write_text("not a picture")
    good = [catalog_image_path(pid) for pid in catalog_ids[:7]]
    return [good[0], corrupt, *good[1:4], folder / "missing.jpg", *good[4:], text], catalog_ids[:7]


def test_embed_files_answers_every_input_once(backbone, sources):
    paths, ids = sources
    results = dict(embed_files(backbone, paths, batch_size=3, workers=2))
    assert sorted(results) == list(range(len(paths)))
    failures = {i for i, r in results.items() if isinstance(r, Exception)}
    assert failures == {1, 5, 9}
    assert all(isinstance(results[i], ImageDecodeError) for i in failures)
    assert "not found" in str(results[5]) and "not an image" in str(results[9])

    good = [i for i in range(len(paths)) if i not in failures]
    direct = backbone.features(np.stack([catalog_square(pid) for pid in ids]))
    for index, expected in zip(good, direct, strict=True):
        got = results[index]
        np.testing.assert_allclose(got.vector, expected.vector, atol=1e-5)
        np.testing.assert_allclose(got.spatial.astype(np.float32), expected.spatial.astype(np.float32), atol=2e-2)
        np.testing.assert_array_equal(got.colours, expected.colours)


def test_embed_files_handles_empty_input_and_rejects_bad_batch_size(backbone):
    assert list(embed_files(backbone, [], batch_size=8)) == []
    with pytest.raises(ValueError, match="batch_size"):
        list(embed_files(backbone, [catalog_image_path(0)], batch_size=0))


def test_embed_files_accepts_bytes(backbone, catalog_ids):
    data = catalog_image_path(catalog_ids[0]).read_bytes()
    [(index, features)] = list(embed_files(backbone, [data], batch_size=4))
    assert index == 0 and features.vector.shape == (1280,)
