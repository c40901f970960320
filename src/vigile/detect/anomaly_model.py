"""The unsupervised model: an Isolation Forest over each agent-hour's feature vector,
expressed relative to the agent's baseline, so "unusual for this agent" is what isolates.

scikit-learn's ``score_samples`` is higher for normal points; the anomaly is its
negation. Only anomalies beyond the fitted data's ``quantile`` add to the risk, so the
model corroborates rules and baselines rather than alerting on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

__all__ = ["AnomalyModel"]

Floats = npt.NDArray[np.float64]
_THRESHOLD_SAMPLE = 20_000


@dataclass(frozen=True, kw_only=True, slots=True)
class AnomalyModel:
    """A fitted forest and the anomaly level above which an hour counts."""

    forest: IsolationForest
    threshold: float
    spread: float

    @classmethod
    def fit(cls, vectors: Floats, *, seed: int = 0, quantile: float = 0.995) -> AnomalyModel:
        """Fit on agent-hour vectors (rows) of relative features."""
        # Each tree sees 256 rows; the forest and the threshold need the distribution, not
        # every row: one fixed sample bounds the cost (drawing 256 of a million rows per
        # tree cost more than building the tree).
        sample = np.random.default_rng(seed).permutation(vectors.shape[0])[:_THRESHOLD_SAMPLE]
        forest = IsolationForest(n_estimators=100, max_samples=256, random_state=seed)
        forest.fit(vectors[sample])
        anomaly = -forest.score_samples(vectors[sample])
        threshold = float(np.quantile(anomaly, quantile))
        spread = float(max(anomaly.max() - threshold, 1e-6))
        return cls(forest=forest, threshold=threshold, spread=spread)

    def points(self, vectors: Floats) -> Floats:
        """Risk points in [0, 1] per row: 0 up to the threshold, 1 at the most anomalous
        hour seen in training."""
        if vectors.shape[0] == 0:
            return np.zeros(0)
        anomaly = -self.forest.score_samples(vectors)
        points: Floats = np.clip((anomaly - self.threshold) / self.spread, 0.0, 1.0)
        return points
