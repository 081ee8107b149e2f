"""The production model: fit on normal events, score new ones, save and load safely.

Example
-------
>>> from soc_anomaly.model import AnomalyModel                      # doctest: +SKIP
>>> model = AnomalyModel(detector="iforest", features="entity").fit(train_events)
>>> model.save("models/iforest")
>>> scored = AnomalyModel.load("models/iforest").score(new_events)
>>> scored[scored["alert"]][["score", "reasons"]]
"""

from soc_anomaly.model.bundle import load_model, read_manifest, save_model, trusted_types
from soc_anomaly.model.fitted import FEATURE_KINDS, AnomalyModel

__all__ = [
    "FEATURE_KINDS",
    "AnomalyModel",
    "load_model",
    "read_manifest",
    "save_model",
    "trusted_types",
]
