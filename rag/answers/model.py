"""Small logistic models stored as JSON (no pickle): named features, weights, bias, and the
feature means and scales they were fitted on, so inputs are standardised the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answers.features import EVIDENCE, FEATURES
from rag.answers.span_head import SpanHead, head_path
from rag.config import DEFAULT_WEIGHTS
from rag.errors import ModelNotAvailableError


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) for each row of features (columns in ``self.features`` order)."""
        if len(rows) == 0:
            return np.zeros(0)
        standardised = (np.asarray(rows, dtype=np.float64) - np.array(self.means)) / np.array(self.scales)
        return 1.0 / (1.0 + np.exp(-(standardised @ np.array(self.weights) + self.bias)))

    def probability(self, row: tuple[float, ...]) -> float:
        return float(self.probabilities(np.array([row]))[0])

    def to_dict(self) -> dict:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6), "means": [round(m, 6) for m in self.means],
                "scales": [round(s, 6) for s in self.scales]}

    @classmethod
    def from_dict(cls, data: dict) -> LogisticModel:
        return cls(tuple(data["features"]), tuple(data["weights"]), float(data["bias"]), tuple(data["means"]),
                   tuple(data["scales"]))

    @classmethod
    def fit_pairwise(cls, features: tuple[str, ...], groups: list[tuple[np.ndarray, np.ndarray]],
                     negatives_per_positive: int = 20, seed: int = 0) -> LogisticModel:
        """A ranker: logistic regression on feature differences (right minus wrong candidate of the
        same question), so that only what separates candidates of one question is learned."""
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(seed)
        all_rows = np.concatenate([rows for rows, _ in groups])
        means, scales = all_rows.mean(axis=0), all_rows.std(axis=0)
        scales[scales < 1e-9] = 1.0
        differences = []
        for rows, labels in groups:
            standardised = (rows - means) / scales
            positives, negatives = standardised[labels], standardised[~labels]
            for positive in positives:
                drawn = rng.choice(len(negatives), min(negatives_per_positive, len(negatives)), replace=False)
                chosen = negatives[drawn]
                differences.append(positive - chosen)
        differences = np.concatenate(differences)
        x = np.concatenate([differences, -differences])
        y = np.concatenate([np.ones(len(differences)), np.zeros(len(differences))])
        fitted = LogisticRegression(fit_intercept=False, max_iter=2000).fit(x, y)
        return cls(features, tuple(float(w) for w in fitted.coef_[0]), 0.0, tuple(float(m) for m in means),
                   tuple(float(s) for s in scales))

    @classmethod
    def fit(cls, features: tuple[str, ...], rows: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None,
            c: float = 1.0, signs: dict[str, int] | None = None) -> LogisticModel:
        """L2-regularised logistic regression (scikit-learn's objective); ``signs`` keeps named weights
        at or above zero (+1) or at or below it (-1)."""
        from scipy.optimize import minimize

        rows = np.asarray(rows, dtype=np.float64)
        means, scales = rows.mean(axis=0), rows.std(axis=0)
        scales[scales < 1e-9] = 1.0
        x = (rows - means) / scales
        y = np.where(np.asarray(labels, dtype=bool), 1.0, -1.0)
        weights = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)

        def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
            coefficients, margins = params[:-1], y * (x @ params[:-1] + params[-1])
            pull = -y * weights / (1.0 + np.exp(margins))  # d(loss)/d(score) of each row
            value = c * float(weights @ np.logaddexp(0.0, -margins)) + 0.5 * float(coefficients @ coefficients)
            return value, np.concatenate([c * (x.T @ pull) + coefficients, [c * pull.sum()]])

        bounds = [{1: (0.0, None), -1: (None, 0.0)}.get((signs or {}).get(name), (None, None)) for name in features]
        fitted = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)],
                          options={"maxiter": 5000}).x
        return cls(features, tuple(float(w) for w in fitted[:-1]), float(fitted[-1]),
                   tuple(float(m) for m in means), tuple(float(s) for s in scales))


@dataclass(frozen=True)
class AnswerModels:
    """The candidate ranker and the answerability model, fitted together."""

    ranker: LogisticModel
    answerability: LogisticModel
    span_head: SpanHead  # whose scores are three of the ranker's features
    # The answerability probability below which an answer is withheld, chosen where strict accuracy
    # on the training questions is highest (answer when right is likelier than a withheld answer is).
    threshold: float
    trained_on: dict

    def save(self, path: Path) -> None:
        payload = {"ranker": self.ranker.to_dict(), "answerability": self.answerability.to_dict(),
                   "threshold": round(self.threshold, 4), "trained_on": self.trained_on}
        Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def read_models(path: str | Path = DEFAULT_WEIGHTS) -> AnswerModels:
    """The weights in ``path`` and the span head beside it (``span_head.safetensors``),
    once per process."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        models = AnswerModels(LogisticModel.from_dict(data["ranker"]), LogisticModel.from_dict(data["answerability"]),
                              SpanHead.read(head_path(path)), float(data["threshold"]),
                              data.get("trained_on", {}))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelNotAvailableError(
            f"cannot read answer weights {path} ({type(error).__name__}); fit them with: rag calibrate"
        ) from None
    if models.ranker.features != FEATURES or models.answerability.features != EVIDENCE:
        raise ModelNotAvailableError(
            f"answer weights {path} were fitted on other features than this rag computes; "
            "refit them with: rag calibrate"
        )
    return models
