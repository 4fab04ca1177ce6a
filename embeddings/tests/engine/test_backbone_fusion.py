"""Folding batch norms into convolutions keeps the network's outputs and removes every batch-norm layer."""

import numpy as np


def test_fused_trunk_matches_the_unfused_network_and_has_no_batch_norms(backbone):
    import keras

    from embeddings.engine.backbones import lite0

    unfused, _ = lite0.build_model()
    rng = np.random.default_rng(0)
    for layer in unfused.layers:  # random but realistic statistics, so every fold is exercised
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights(
                [rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 2, n)]
            )
    fused = lite0.fuse_batch_norms(unfused)
    pixels = rng.uniform(-1, 1, (2, 224, 224, 3)).astype(np.float32)

    expected = unfused(pixels, training=False).numpy()
    actual = fused(pixels, training=False).numpy()

    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in fused.layers)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in unfused.layers)
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3 * float(np.abs(expected).max()))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in backbone.trunk.layers)
