"""The fitted models that score candidate sentences, read from `ranker.json`.

Three small models, all fitted by scripts in bench/ and stored with the feature
names they expect, so a change of features cannot silently misalign weights:

- ranking: a listwise model (softmax over one question's candidates) with one
  hidden tanh layer of a few units plus a linear term, over standardised
  features; its score differences are log-odds between candidates
  (bench/eval_fit.py, even-numbered articles of SQuAD v1.1 dev);
- answer: a pointwise logistic regression, an absolute "this sentence answers"
  logit (same script and data);
- evidence: a logistic regression over per-question signals (ranking.EVIDENCE_NAMES),
  the logit that the corpus answers the question at all (bench/eval_abstain.py);
- presence: a logistic regression over per-sentence signals (presence.PRESENCE_NAMES),
  the logit that a sentence holds the detail asked for, with the threshold for the
  first quote and the one every further quote must pass on its own
  (bench/eval_presence.py, even articles of the SQuAD v2.0 half).

`ranker.json` records under "fitted" which data file, which half and which settings
each model was fitted on, and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

RANKER_FILE = Path(__file__).with_name("ranker.json")


class RankerError(Exception):
    """`ranker.json` is missing or does not match the features this code computes."""


@dataclass(frozen=True, kw_only=True)
class RankerModel:
    """Weights of the three models; arrays are in the order of `features` / `evidence_names`."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    linear: np.ndarray
    answer: np.ndarray
    evidence_names: tuple[str, ...]
    evidence_weights: np.ndarray
    evidence_bias: float
    presence_names: tuple[str, ...] = ()
    presence_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    presence_scale: np.ndarray = field(default_factory=lambda: np.ones(0))
    presence_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    presence_bias: float = 1.0
    presence_threshold: float = 0.0
    extra_presence_threshold: float = 0.0

    def rank_scores(self, features: np.ndarray) -> np.ndarray:
        """Ranking score per candidate row of `features` (higher ranks first)."""
        standard = (features - self.mean) / self.scale
        return np.tanh(standard @ self.hidden) @ self.output + standard @ self.linear

    def answer_logits(self, features: np.ndarray) -> np.ndarray:
        """Pointwise logit per candidate that it contains the answer (raw features)."""
        return features @ self.answer

    def evidence_logit(self, inputs: np.ndarray) -> float:
        """Logit that the corpus answers the question, from its evidence inputs."""
        return float(inputs @ self.evidence_weights + self.evidence_bias)

    def evidence_logits(self, inputs: np.ndarray) -> np.ndarray:
        """`evidence_logit` for each row of `inputs` (one candidate's own signals per row)."""
        return inputs @ self.evidence_weights + self.evidence_bias

    def presence_logits(self, inputs: np.ndarray) -> np.ndarray:
        """Logit per candidate row of `inputs` (presence.PRESENCE_NAMES) that it holds the detail asked.

        Without a fitted presence model (no "presence" entry) every candidate gets `presence_bias`.
        """
        if len(self.presence_weights) == 0:
            return np.full(len(inputs), self.presence_bias)
        return ((inputs - self.presence_mean) / self.presence_scale) @ self.presence_weights + self.presence_bias


def model_from_json(payload: dict[str, Any]) -> RankerModel:
    """A `RankerModel` from the dict stored in `ranker.json`."""
    ranking = payload["ranking"]
    evidence = payload["evidence"]
    presence = payload.get("presence")
    extra: dict[str, Any] = {}
    if presence:
        extra = dict(
            presence_names=tuple(presence["names"]),
            presence_mean=np.array(presence["mean"], dtype=np.float64),
            presence_scale=np.array(presence["scale"], dtype=np.float64),
            presence_weights=np.array(presence["weights"], dtype=np.float64),
            presence_bias=float(presence["bias"]),
            presence_threshold=float(presence["threshold"]),
            extra_presence_threshold=float(presence["extra_threshold"]),
        )
    return RankerModel(
        features=tuple(payload["features"]),
        mean=np.array(ranking["mean"], dtype=np.float64),
        scale=np.array(ranking["scale"], dtype=np.float64),
        hidden=np.array(ranking["hidden"], dtype=np.float64),
        output=np.array(ranking["output"], dtype=np.float64),
        linear=np.array(ranking["linear"], dtype=np.float64),
        answer=np.array(payload["answer"], dtype=np.float64),
        evidence_names=tuple(evidence["names"]),
        evidence_weights=np.array(evidence["weights"], dtype=np.float64),
        evidence_bias=float(evidence["bias"]),
        **extra,
    )


@lru_cache(maxsize=4)
def load_ranker(path: Path = RANKER_FILE) -> RankerModel:
    """The model stored in `path` (default: the `ranker.json` shipped with the package)."""
    try:
        return model_from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RankerError(f"cannot read the sentence ranker {path}: {error}") from None


def check_model(model: RankerModel, features: tuple[str, ...], evidence_names: tuple[str, ...],
                presence_names: tuple[str, ...] = ()) -> None:
    """Raise `RankerError` unless the model was fitted on exactly these features."""
    if model.features != features or model.evidence_names != evidence_names:
        raise RankerError("ranker.json was fitted on other features: refit with bench/eval_fit.py "
                          "and bench/eval_abstain.py")
    if model.presence_names and model.presence_names != presence_names:
        raise RankerError("ranker.json's presence check was fitted on other features: refit with "
                          "bench/eval_presence.py")
    if model.hidden.shape[0] != len(features) or len(model.answer) != len(features):
        raise RankerError("ranker.json weights do not match its feature list")
