"""Alerts as OCSF 1.5.0 Detection Finding (class 2004) records.

One finding per alerting event:

* ``finding_info``: ``uid`` (the model's short hash and the event's id, so the
  same alert from the same model always has the same uid), ``title``
  ('Anomalous logon by "alice"' or 'Anomalous connection by "alice" to "host"':
  event values quoted as in the reasons, :func:`soc_anomaly.features.explain.quote`),
  ``desc`` (the reasons joined by ``"; "``), ``types`` ``["Anomaly"]``, ``analytic`` of type
  Learning (``type_id`` 4) naming the detector, its feature set and the
  package version, and ``related_events`` with the source event's uid and type;
* ``severity_id`` from the calibrated score (how anomalous against normal
  training traffic): 99.99 and over Critical (5), 99.9 High (4), 99 Medium (3),
  90 Low (2), below that Informational (1); ``risk_score`` is the score rounded;
* ``evidences``: the source event (``data`` with its uid, class and time) and
  its account, source and destination endpoints;
* ``anomaly_analyses``: the account as the analysis target and each reason as
  an observation;
* ``time`` the source event's time, ``metadata`` the product ``soc-anomaly``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from soc_anomaly import __version__
from soc_anomaly.data.ocsf_mapping import (
    AUTHENTICATION_CLASS_UID,
    NETWORK_ACTIVITY_CLASS_UID,
    OCSF_VERSION,
)
from soc_anomaly.features.explain import quote

__all__ = [
    "DETECTION_FINDING_CLASS_UID",
    "SEVERITY_BANDS",
    "analytic",
    "findings",
    "reason_list",
    "severity",
]

DETECTION_FINDING_CLASS_UID = 2004
#: (lowest calibrated score, severity_id, severity), most severe first.
SEVERITY_BANDS: tuple[tuple[float, int, str], ...] = (
    (99.99, 5, "Critical"),
    (99.9, 4, "High"),
    (99.0, 3, "Medium"),
    (90.0, 2, "Low"),
    (-math.inf, 1, "Informational"),
)
_ACTIVITY = {AUTHENTICATION_CLASS_UID: 300201, NETWORK_ACTIVITY_CLASS_UID: 400106}


def severity(score: float) -> tuple[int, str]:
    """OCSF ``severity_id`` and caption of a calibrated score (see :data:`SEVERITY_BANDS`)."""
    for low, sid, name in SEVERITY_BANDS:
        if score >= low:
            return sid, name
    return 1, "Informational"  # pragma: no cover - the last band takes every number


def analytic(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The ``finding_info.analytic`` of a saved model's manifest."""
    detector = manifest.get("detector", {})
    name = detector.get("name", "detector") if isinstance(detector, Mapping) else str(detector)
    kind = str(manifest.get("features", ""))
    return {
        "type_id": 4,
        "type": "Learning (ML/DL)",
        "name": f"soc-anomaly {name}" + (f" ({kind} features)" if kind else ""),
        "version": str(manifest.get("versions", {}).get("soc_anomaly", __version__)),
        "uid": str(manifest.get("model_sha256", ""))[:16],
        "category": "Unsupervised anomaly detection",
    }


def _actor(user: Any, host: Any, address: Any) -> tuple[str, dict[str, str]]:
    """Who a finding is about (quoted for its title) and its analysis target: the account,
    else (a flow without one) the source endpoint whose baselines it was scored against."""
    if user is None and (host is not None or address is not None):
        kind, value = ("source host", host) if host is not None else ("source address", address)
        target = "Device" if host is not None else "IP Address"
        return f"{kind} {quote(value)}", {"name": str(value), "type": target}
    return quote(user), {"name": str(user), "type": "User"}


def _value(row: Mapping[str, Any], col: str) -> Any:
    value = row.get(col)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _prune(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop null fields and objects left empty (OCSF leaves absent what is unknown)."""
    out = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = _prune(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def _digest(row: Mapping[str, Any]) -> str:
    """A stable id of an event without ``event_id``: a hash of its content."""
    text = json.dumps({k: str(v) for k, v in sorted(row.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _time_ms(value: Any) -> int:
    if isinstance(value, pd.Timestamp):
        return int(value.value // 1_000_000)
    return int(value)


def reason_list(value: Any) -> list[str]:
    """An event's reasons as a list of sentences.

    :meth:`AnomalyModel.score` gives a list; text (a frame of an earlier
    version, sentences joined by ``"; "``) is split, but never inside a quoted
    event value (:func:`soc_anomaly.features.explain.quote`).
    """
    if isinstance(value, str):
        return [r for r in _split_reasons(value) if r]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(r) for r in value]


def _split_reasons(text: str) -> list[str]:
    """``text`` split at each ``"; "`` outside double quotes (backslash escapes honoured)."""
    parts, start, quoted, escaped = [], 0, False, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif not quoted and text.startswith("; ", i):
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    return parts


def findings(
    events: pd.DataFrame, scored: pd.DataFrame, model_info: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    """Detection Finding records for the alerting rows of a scored chunk.

    Parameters
    ----------
    events : pandas.DataFrame
        The raw events that were scored.
    scored : pandas.DataFrame
        :meth:`AnomalyModel.score`'s output for them (same index).
    model_info : mapping
        The model's manifest (:func:`soc_anomaly.model.read_manifest`).

    Yields
    ------
    dict
        One OCSF 2004 record per alert, in the events' order.
    """
    info = analytic(model_info)
    alert = scored["alert"].to_numpy(dtype=bool)
    rows = events.loc[alert].to_dict("records")
    for row, (_, s) in zip(rows, scored.loc[alert].iterrows(), strict=True):
        score = float(s["score"])
        sid, sname = severity(score)
        uid = _value(row, "event_id")
        cls = _value(row, "class_uid")
        user = _value(row, "user")
        dst = _value(row, "dst_host")
        when = _time_ms(row["time"]) if "time" in row else 0
        reasons = reason_list(s["reasons"])
        what = "logon" if cls == AUTHENTICATION_CLASS_UID else "connection"
        who, target = _actor(user, _value(row, "src_host"), _value(row, "src_ip"))
        title = f"Anomalous {what} by {who}" + (
            f" to {quote(dst)}" if cls == NETWORK_ACTIVITY_CLASS_UID and dst else ""
        )
        related = {"uid": str(uid), "type_uid": _ACTIVITY.get(cls)} if uid is not None else None
        record = {
            "class_uid": DETECTION_FINDING_CLASS_UID,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": 1,
            "activity_name": "Create",
            "type_uid": DETECTION_FINDING_CLASS_UID * 100 + 1,
            "type_name": "Detection Finding: Create",
            "time": when,
            "severity_id": sid,
            "severity": sname,
            "status_id": 1,
            "status": "New",
            "is_alert": True,
            "risk_score": round(score),
            "message": f"{title}: {reasons[0]}" if reasons else title,
            "metadata": {
                "version": OCSF_VERSION,
                "product": {
                    "name": "soc-anomaly",
                    "vendor_name": "soc-anomaly",
                    "version": __version__,
                },
            },
            "finding_info": {
                "uid": f"{info['uid'] or 'model'}-{uid if uid is not None else _digest(row)}",
                "title": title,
                "desc": "; ".join(reasons) or None,
                "types": ["Anomaly"],
                "analytic": info,
                "first_seen_time": when,
                "last_seen_time": when,
                "related_events": [related] if related else None,
            },
            "evidences": [
                _prune(
                    {
                        "data": {
                            "event_uid": None if uid is None else str(uid),
                            "class_uid": cls,
                            "time": when,
                        },
                        "user": {"name": user},
                        "src_endpoint": {
                            "ip": _value(row, "src_ip"),
                            "uid": _value(row, "device_id"),
                            "location": {
                                "city": _value(row, "src_city"),
                                "country": _value(row, "src_country"),
                                "lat": _value(row, "src_lat"),
                                "long": _value(row, "src_lon"),
                            },
                        },
                        "dst_endpoint": {
                            "hostname": dst,
                            "ip": _value(row, "dst_ip"),
                            "port": None
                            if _value(row, "dst_port") is None
                            else int(_value(row, "dst_port")),
                        },
                    }
                )
            ],
            "anomaly_analyses": [
                {
                    "analysis_targets": [target],
                    "anomalies": [
                        {
                            "observation_parameter": "event",
                            "observations": [{"value": r} for r in reasons]
                            or [{"value": f"calibrated score {score:.2f}"}],
                        }
                    ],
                }
            ],
        }
        yield _prune(record)
