"""The shipped sentence ranker: it loads, fits the features computed today, and scores as documented."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.search.ranking import EVIDENCE_NAMES, FEATURE_NAMES, default_model
from assistant.search.scoring import RANKER_FILE, RankerError, check_model, load_ranker, model_from_json


def test_shipped_ranker_matches_the_features():
    model = default_model()
    assert model.features == FEATURE_NAMES and model.evidence_names == EVIDENCE_NAMES
    assert model.hidden.shape == (len(FEATURE_NAMES), len(model.output))


def test_scores_follow_the_stored_formula():
    model = load_ranker()
    features = np.random.default_rng(1).normal(size=(4, len(FEATURE_NAMES)))
    standard = (features - model.mean) / model.scale
    expected = np.tanh(standard @ model.hidden) @ model.output + standard @ model.linear
    assert np.allclose(model.rank_scores(features), expected)
    assert np.allclose(model.answer_logits(features), features @ model.answer)


def test_a_ranker_fitted_on_other_features_is_refused():
    payload = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    payload["features"] = payload["features"][:-1] + ["something_else"]
    with pytest.raises(RankerError, match="refit"):
        check_model(model_from_json(payload), FEATURE_NAMES, EVIDENCE_NAMES)


def test_a_missing_ranker_file_is_one_clear_error(tmp_path):
    with pytest.raises(RankerError, match="cannot read the sentence ranker"):
        load_ranker(tmp_path / "nothing.json")
