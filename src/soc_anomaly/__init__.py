"""soc-anomaly: unsupervised anomaly detection for security telemetry.

Build seeded synthetic SOC data with labelled attacks, train detectors on
normal events only, evaluate and explain them, and run the same detectors on
real events.

Command line (``soc-anomaly COMMAND -h`` lists a command's flags):

- ``soc-anomaly generate``: write the seed scenario's labelled sessions or the
  enterprise world's raw events and campaign manifest.
- ``soc-anomaly detect``: the lab; train detectors on normal events, then compare,
  evaluate and explain them (console report, figures, ``metrics.json``, HTML report).
- ``soc-anomaly diff``: what changed between two runs saved by ``detect --save-run``.
- ``soc-anomaly benchmark``: our detectors against published ROC AUCs on real data.
- ``soc-anomaly train``: fit one model on normal events and save it as a safe bundle.
- ``soc-anomaly score``: score events (files, streams, OCSF) with a saved model.
- ``soc-anomaly serve``: the REST scoring service of a saved model.

Python entry points:

- ``soc_anomaly.scenarios.generate_world`` and
  ``soc_anomaly.scenarios.generate_synthetic_soc_dataset``: the enterprise world
  and the seed scenario.
- ``soc_anomaly.experiment.run_detection`` with ``soc_anomaly.experiment.DetectConfig``:
  the whole ``detect`` flow, returning a ``soc_anomaly.experiment.DetectionResult``.
- ``soc_anomaly.model.AnomalyModel``: fit, save, load and score one model (what
  ``train``, ``score`` and ``serve`` use); ``soc_anomaly.model.stream.StreamScorer``
  scores a stream chunk by chunk.
- ``soc_anomaly.detectors.get_detector`` and ``soc_anomaly.detectors.DETECTORS``: the
  registered detectors, by the names every command takes
  (``soc_anomaly.detectors.DETECTOR_NAMES``).
- ``soc_anomaly.features.EntityFeatures``: the per-entity features of raw events.
- ``soc_anomaly.evaluation``: thresholds, metrics, campaigns and explanations.
- ``soc_anomaly.service.create_app``: the FastAPI scoring service.
- ``soc_anomaly.data_generation`` and ``soc_anomaly.anomaly_detection``: the
  functional API of the walkthrough notebook; ``soc_anomaly.config`` holds the
  defaults.

Documentation: the MkDocs site in the source tree's ``docs/`` folder (``mkdocs serve``
to read it): ``docs/getting-started.md`` first, ``docs/cli.md`` for every command
and ``docs/api/index.md`` for the Python API.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # PEP 562: the version is read from the installed metadata on first use only;
    # importlib.metadata costs about 0.1 s, half of what `soc-anomaly -h` imports.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("soc-anomaly")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0.0.0"
    globals()["__version__"] = value
    return value
