"""Every registered shopper model loads over a real tiny catalog and paints a mask; outside models load by path."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.data import load_catalog_dir
from evaluation.shoppers import SHOPPERS, GridBrush, Shopper, load_shopper
from evaluation.shoppers.colour import ColourEyes
from evaluation.shoppers.human_brush import HumanBrush
from evaluation.shoppers.structure import StructureEyes

EXPECTED = {
    "colour": (ColourEyes, GridBrush),
    "structure": (StructureEyes, GridBrush),
    "colour+human": (ColourEyes, HumanBrush),
    "structure+human": (StructureEyes, HumanBrush),
}


class OutsideShopper:
    """A model from outside the package: structure eyes with the grid brush, built by its own class."""

    @classmethod
    def build(cls, catalog, cache_dir) -> Shopper:
        return Shopper("outside", StructureEyes.build(catalog, cache_dir), GridBrush())


class NotAShopper:
    @classmethod
    def build(cls, catalog, cache_dir):
        return object()


@pytest.fixture(scope="module")
def catalog(tiny_catalog_dir):
    return load_catalog_dir(tiny_catalog_dir)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_registered_shopper_loads_and_paints_on_real_photos(name, catalog, tmp_path):
    assert set(SHOPPERS) == set(EXPECTED)
    shopper = load_shopper(name, catalog, tmp_path)
    eyes_type, brush_type = EXPECTED[name]
    assert shopper.name == name and isinstance(shopper.eyes, eyes_type) and isinstance(shopper.brush, brush_type)
    seed, target, other = 10008, 10005, 10168  # two tees and a shoe
    mask = shopper.mask(seed, target, np.random.default_rng([0, 1, 2]))
    assert mask.shape == (224, 224) and mask.dtype == bool and mask.any()
    np.testing.assert_array_equal(mask, shopper.mask(seed, target, np.random.default_rng([0, 1, 2])))
    looks = shopper.looks([seed, other, target], target)
    assert looks[2] == 0.0 and looks[0] < looks[1]  # the tee looks closer to a tee than the shoe does


def test_a_dotted_path_loads_a_model_from_outside_the_package(catalog, tmp_path):
    shopper = load_shopper("evaluation.tests.test_shopper_registry:OutsideShopper", catalog, tmp_path)
    assert shopper.name == "outside" and isinstance(shopper.eyes, StructureEyes)
    with pytest.raises(ValueError, match="not Shopper"):
        load_shopper("evaluation.tests.test_shopper_registry:NotAShopper", catalog, tmp_path)
    with pytest.raises(ValueError, match="unknown shopper"):
        load_shopper("nobody", catalog, tmp_path)
    with pytest.raises(ValueError, match="cannot load"):
        load_shopper("evaluation.tests.test_shopper_registry:Missing", catalog, tmp_path)
