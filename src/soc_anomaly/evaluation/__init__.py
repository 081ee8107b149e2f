"""How good are the scores: metrics, thresholds, importance and explanations.

=====================  =========================================================
module                 what lives there
=====================  =========================================================
``metrics``            ROC/PR AUC, precision@k, confusion at a threshold,
                       recall per attack type
``thresholds``         the rules that draw the alert line (percentiles, F-beta,
                       alert budget) and the event rate the budget needs
``threshold_lab``      every rule on the same scores, reports and the sweep
``campaigns``          campaigns caught, time to detect, false positives by
                       benign tag, alerts a day
``alert_queue``        the daily event queue: one alert per user and hour
``incident_queue``     campaigns caught by raised incidents (main campaign only),
                       fragmentation and purity
``importance``         permutation importance of a fitted detector
``explain``            feature correlations and z-score sentences per alert
=====================  =========================================================

Every function here is pure: nothing is plotted, printed or written.
"""

from soc_anomaly.evaluation.campaigns import (
    CampaignOutcome,
    CampaignReport,
    GroupRecall,
    campaign_lab,
    campaign_report,
    campaign_table,
)
from soc_anomaly.evaluation.explain import (
    Explanation,
    compute_feature_stats,
    deviant_feature_counts,
    explain_top,
    explain_top_anomalies,
    global_feature_correlations,
)
from soc_anomaly.evaluation.importance import IMPORTANCE_METRICS, permutation_importance
from soc_anomaly.evaluation.metrics import (
    ModelEvaluation,
    confusion_at_threshold,
    evaluate_model,
    evaluate_scores,
    precision_at_k,
    recall_by_attack,
    threshold_at_percentile,
)
from soc_anomaly.evaluation.threshold_lab import (
    DEFAULT_SWEEP_PERCENTILES,
    ThresholdReport,
    percentile_sweep,
    threshold_lab,
    threshold_report,
)
from soc_anomaly.evaluation.thresholds import (
    by_alert_budget,
    by_evaluated_percentile,
    by_fbeta,
    by_normal_percentile,
    events_per_day,
)

__all__ = [
    "DEFAULT_SWEEP_PERCENTILES",
    "IMPORTANCE_METRICS",
    "CampaignOutcome",
    "CampaignReport",
    "Explanation",
    "GroupRecall",
    "ModelEvaluation",
    "ThresholdReport",
    "by_alert_budget",
    "by_evaluated_percentile",
    "by_fbeta",
    "by_normal_percentile",
    "campaign_lab",
    "campaign_report",
    "campaign_table",
    "compute_feature_stats",
    "confusion_at_threshold",
    "deviant_feature_counts",
    "evaluate_model",
    "evaluate_scores",
    "events_per_day",
    "explain_top",
    "explain_top_anomalies",
    "global_feature_correlations",
    "percentile_sweep",
    "permutation_importance",
    "precision_at_k",
    "recall_by_attack",
    "threshold_at_percentile",
    "threshold_lab",
    "threshold_report",
]
