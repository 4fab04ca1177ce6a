"""feedback.recommender builds the engine config from settings.LOOKAWAY_ENGINE."""

from __future__ import annotations

import pytest

from embeddings.engine.recommender import EngineConfig
from embeddings.serving.shared_recommender import engine_config


def test_engine_config_reads_overrides_from_settings(settings):
    settings.LOOKAWAY_ENGINE = {"diversity": 0.7}
    assert engine_config() == EngineConfig(diversity=0.7)
    assert engine_config({"w_colour": 0.0}).w_colour == 0.0


def test_unknown_engine_setting_is_an_error(settings):
    settings.LOOKAWAY_ENGINE = {"no_such_knob": 1}
    with pytest.raises(ValueError, match="no_such_knob"):
        engine_config()
