"""The Backbone object: shapes, one compiled graph, features, the registry and its refusals."""

import numpy as np
import pytest
from PIL import Image

from embeddings.engine.backbones import BACKBONE_NAMES, BackboneUnavailable, build_backbone
from embeddings.engine.cell_shapes import SHAPE_CHANNELS
from embeddings.engine.types import Backbone
from embeddings.tests.conftest import catalog_image_path, catalog_square
from embeddings.tests.fakes import FakeBackbone


def test_identity(backbone):
    assert backbone.version == "efficientnet_lite0/57934424/s8"
    assert (backbone.input_size, backbone.grid, backbone.dim) == (224, 7, 1280)


def test_the_real_and_the_fake_backbone_are_what_the_engine_expects(backbone, catalog_ids):
    """Both satisfy embeddings.engine.types.Backbone and give the shapes the engine and the pipeline rely on."""

    class ForwardOnly:  # lacks features(): the protocol check must refuse it
        version, input_size, grid = "x", 8, 2

        def prepare(self, image): ...

        def forward(self, batch): ...

    assert not isinstance(ForwardOnly(), Backbone)
    for model in (backbone, FakeBackbone()):
        assert isinstance(model, Backbone)
        with Image.open(catalog_image_path(catalog_ids[0])) as image:
            square = model.prepare(image.convert("RGB"))
        assert square.shape == (model.input_size, model.input_size, 3) and square.dtype == np.uint8
        vectors, maps = model.forward(square[None])
        assert vectors.shape == (1, model.dim) and np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)
        assert maps.shape[:3] == (1, model.grid, model.grid)
        (features,) = model.features(square[None])
        assert features.vector.shape == (model.dim,)
        assert features.spatial.shape == (model.grid, model.grid, SHAPE_CHANNELS)
        assert features.colours.shape == (model.grid, model.grid, 3)


def test_forward_shapes_and_single_trace(backbone, catalog_ids):
    batch = np.stack([catalog_square(pid) for pid in catalog_ids[:3]])
    for n in (1, 3):
        vectors, maps = backbone.forward(batch[:n])
        assert vectors.shape == (n, 1280) and vectors.dtype == np.float32
        assert maps.shape == (n, 7, 7, 1280) and maps.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batch results do not depend on the batch they came in.
    single, _ = backbone.forward(batch[2:3])
    np.testing.assert_allclose(single[0], backbone.forward(batch)[0][2], atol=1e-5)
    assert backbone._forward.experimental_get_tracing_count() == 1


def test_forward_rejects_wrong_input(backbone):
    with pytest.raises(ValueError, match="uint8"):
        backbone.forward(np.zeros((1, 224, 224, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="224"):
        backbone.forward(np.zeros((1, 200, 200, 3), dtype=np.uint8))


def test_prepare_fits_any_image_into_the_input_square(backbone, catalog_ids):
    with Image.open(catalog_image_path(catalog_ids[0])) as photo:
        wide = photo.convert("RGB").resize((448, 224))
    square = backbone.prepare(wide)
    assert square.shape == (224, 224, 3) and square.dtype == np.uint8
    assert (square[:50] == 255).all() and (square[-50:] == 255).all()  # letterboxed top and bottom on white


def test_features(backbone, catalog_ids):
    batch = np.stack([catalog_square(pid) for pid in catalog_ids[:2]])
    feats = backbone.features(batch)
    vectors, _ = backbone.forward(batch)
    assert len(feats) == 2
    for feature, vector in zip(feats, vectors, strict=True):
        np.testing.assert_allclose(feature.vector, vector, atol=1e-6)
        assert feature.spatial.shape == (7, 7, SHAPE_CHANNELS) and feature.spatial.dtype == np.float16
        assert feature.colours.shape == (7, 7, 3) and feature.colours.dtype == np.float16
    # Photos on white: the corner cell is (near) white, L close to 100 and no chroma.
    corner = feats[0].colours[0, 0].astype(np.float32)
    assert corner[0] > 90 and abs(corner[1]) < 5 and abs(corner[2]) < 5


def test_similar_products_are_closer_than_different_ones(backbone):
    # Two shirts and a watch from the catalog: the shirts' embeddings are nearer each other.
    import csv

    from embeddings.tests.conftest import CATALOG_DIR

    by_type: dict[str, list[int]] = {}
    with open(CATALOG_DIR / "styles.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if catalog_image_path(int(row["id"])).exists():
                by_type.setdefault(row["articleType"], []).append(int(row["id"]))
    shirts, watches = by_type["Tshirts"][:2], by_type["Watches"][:1]
    vectors, _ = backbone.forward(np.stack([catalog_square(pid) for pid in shirts + watches]))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_registry_lists_and_refuses_unknown_names(tmp_path):
    assert BACKBONE_NAMES[0] == "efficientnet_lite0"
    assert {"resnet50", "inception_v3", "efficientnet_b0"} <= set(BACKBONE_NAMES)
    with pytest.raises(BackboneUnavailable, match="unknown backbone 'vgg'.*efficientnet_lite0"):
        build_backbone("vgg", model_dir=tmp_path)


def test_missing_lite0_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(BackboneUnavailable, match="does not exist"):
        build_backbone("efficientnet_lite0", model_dir=tmp_path, weights_path=tmp_path / "nope.pth")


def test_corrupt_lite0_weights_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "efficientnet-lite0-deadbeef.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(BackboneUnavailable, match="not an EfficientNet-Lite0 PyTorch weights file"):
        build_backbone("efficientnet_lite0", model_dir=tmp_path, weights_path=bad)


def test_features_take_grids_computed_elsewhere_and_compute_them_otherwise(backbone, catalog_ids):
    from embeddings.engine.cell_shapes import shape_grid
    from embeddings.engine.spatial import colour_grid

    batch = np.stack([catalog_square(pid) for pid in catalog_ids[10:12]])
    vectors, _ = backbone.forward(batch)
    given = [np.full((7, 7, 3), 7.0)] * 2
    shapes = [np.full((7, 7, SHAPE_CHANNELS), 0.5)] * 2
    computed_elsewhere = backbone.features(batch, given, shapes)
    assert (computed_elsewhere[1].colours == 7).all() and (computed_elsewhere[0].spatial == 0.5).all()
    (first, _) = backbone.features(batch)
    np.testing.assert_allclose(first.vector, vectors[0], atol=1e-6)
    assert (first.colours == colour_grid(batch[0], 7)).all()
    assert (first.spatial == shape_grid(batch[0], 7)).all()
