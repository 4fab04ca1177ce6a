"""The Keras port of EfficientNet-Lite0 reproduces the PyTorch network's outputs (golden file), with no torch."""

import importlib.util

import numpy as np
import pytest

from embeddings.tests.conftest import catalog_square


@pytest.fixture(scope="module")
def golden_outputs(backbone, golden):
    assert backbone.name == "efficientnet_lite0"
    batch = np.stack([catalog_square(int(pid)) for pid in golden["ids"]])
    vectors, feature_maps = backbone.forward(batch)
    return {"vectors": vectors, "feature_maps": feature_maps, "logits": backbone.logits(feature_maps), "batch": batch}


def test_torch_is_not_installed():
    assert importlib.util.find_spec("torch") is None


def test_pooled_embeddings_match(golden_outputs, golden):
    pooled = golden_outputs["feature_maps"].mean(axis=(1, 2))
    reference = golden["pooled"]
    cosine = (pooled * reference).sum(1) / np.linalg.norm(pooled, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.shape == (64,)
    assert cosine.min() >= 0.999


def test_vectors_are_the_normalised_pooled_map(golden_outputs, golden):
    expected = golden["pooled"] / np.linalg.norm(golden["pooled"], axis=1, keepdims=True)
    np.testing.assert_allclose(golden_outputs["vectors"], expected, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(golden_outputs["vectors"], axis=1), 1.0, atol=1e-5)


def test_feature_maps_match(golden_outputs, golden):
    assert golden_outputs["feature_maps"].shape == (64, 7, 7, 1280)
    np.testing.assert_allclose(golden_outputs["feature_maps"], golden["feature_map"], atol=1e-3)


def test_imagenet_classes_match(golden_outputs, golden):
    agree = (golden_outputs["logits"].argmax(1) == golden["logits"].argmax(1)).sum()
    assert agree >= 62


def test_classify_runs_the_whole_network(backbone, golden_outputs, golden):
    logits = backbone.classify(golden_outputs["batch"][:4])
    np.testing.assert_allclose(logits, golden["logits"][:4], atol=1e-3)
