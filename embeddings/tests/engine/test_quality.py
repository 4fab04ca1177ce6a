"""Retrieval quality of the default backbone on the real catalog: leave-one-out 1-NN articleType accuracy.

1,000 products sampled from the shared catalog are each queried against the whole catalog, themselves left out.
EfficientNet-Lite0 measures 0.87-0.88 for articleType this way (0.876 over all 9,000; docs/BACKBONES.md), above
the issue's 0.85 bar. Within the 1,000-product sample alone (a much sparser gallery) it would be about 0.78.
"""

import csv

import numpy as np
import pytest

from embeddings.tests.conftest import CATALOG_DIR

SAMPLE_SIZE = 1000
SAMPLE_SEED = 1
THRESHOLDS = {"articleType": 0.85, "subCategory": 0.95, "masterCategory": 0.98}


@pytest.mark.slow
def test_leave_one_out_nearest_neighbour_accuracy(catalog_vectors):
    ids, vectors = catalog_vectors
    with open(CATALOG_DIR / "styles.csv", newline="") as handle:
        rows = {int(row["id"]): row for row in csv.DictReader(handle)}
    sample = np.random.default_rng(SAMPLE_SEED).choice(len(ids), SAMPLE_SIZE, replace=False)

    similarity = vectors[sample] @ vectors.T
    similarity[np.arange(SAMPLE_SIZE), sample] = -np.inf  # leave the query itself out
    nearest = similarity.argmax(axis=1)

    accuracy = {}
    for field in THRESHOLDS:
        labels = np.array([rows[int(i)][field] for i in ids])
        accuracy[field] = float((labels[nearest] == labels[sample]).mean())
    print(f"1-NN accuracy of {SAMPLE_SIZE} sampled products against the whole catalog: {accuracy}")
    assert all(accuracy[field] >= threshold for field, threshold in THRESHOLDS.items()), accuracy
