"""The shared Recommender's EngineConfig comes from settings.LOOKAWAY_ENGINE, with call-site overrides on top."""

from __future__ import annotations

import pytest

from embeddings.engine.config import EngineConfig
from embeddings.serving.shared_recommender import engine_config


def test_engine_config_reads_overrides_from_settings(settings):
    settings.LOOKAWAY_ENGINE = {"w_pattern": 0.7}
    assert engine_config() == EngineConfig(w_pattern=0.7)


def test_call_overrides_win_over_settings_and_keep_the_rest(settings):
    settings.LOOKAWAY_ENGINE = {"w_pattern": 0.7, "w_outside": 0.5}
    config = engine_config({"w_outside": 1.5, "pool_seed": 300})
    assert config == EngineConfig(w_pattern=0.7, w_outside=1.5, pool_seed=300)
    assert config != EngineConfig()  # every value above differs from its default: the overrides took effect


def test_unknown_engine_setting_is_an_error(settings):
    settings.LOOKAWAY_ENGINE = {"no_such_knob": 1}
    with pytest.raises(ValueError, match="no_such_knob"):
        engine_config()
    settings.LOOKAWAY_ENGINE = {}
    with pytest.raises(ValueError, match="pool_sede"):
        engine_config({"pool_sede": 300})
