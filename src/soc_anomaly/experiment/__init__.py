"""Running experiments: the lab orchestrator, its results, saved runs, the published protocol.

=====================  =========================================================
module                 what lives there
=====================  =========================================================
``config``             ``DetectConfig``: the settings of one detection run
``pipeline``           ``run_detection``: data -> split -> detectors -> results
``results``            ``ModelResult``, ``SeedRun``, ``DetectionResult`` and the
                       ``metrics.json`` document they make
``saved_runs``         a run folder: ``save_run`` / ``load_run``
``run_diff``           before/after comparison of two saved runs
``published``          the published protocol on real benchmarks
``benchmark``          that protocol over datasets x methods, beside the paper
``progress``           the step reporter long runs accept
``checkpoint``         ``metrics.json`` rewritten as detectors finish
``rescoring``          rescoring only the rows a permutation changed
=====================  =========================================================
"""

from soc_anomaly.experiment.config import DetectConfig
from soc_anomaly.experiment.pipeline import run_detection
from soc_anomaly.experiment.results import DetectionResult, ModelResult, SeedRun
from soc_anomaly.experiment.run_diff import RunDiff, diff_runs
from soc_anomaly.experiment.saved_runs import Run, load_run, save_run

__all__ = [
    "DetectConfig",
    "DetectionResult",
    "ModelResult",
    "Run",
    "RunDiff",
    "SeedRun",
    "diff_runs",
    "load_run",
    "run_detection",
    "save_run",
]
