"""Render the enterprise world's results table: campaigns caught by the incident queue.

Split from :mod:`results_render` (the other tables) to keep each module small; it
shares that module's line formats and checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from results_render import SHORT, BadInput, _check_config, _f, _header, _row, _rule

from soc_anomaly.detectors.names import DETECTOR_NAMES

ENTERPRISE_COMMAND = "soc-anomaly detect --scenario enterprise --features both --detectors all"
ENTERPRISE_CONFIG = {
    "scenario": "enterprise",
    "features": "both",
    "data_path": None,
    "seeds": 1,
    "detectors": list(DETECTOR_NAMES),
}
#: The entity features without the sequence features, to say what those add.
SEQUENCE_FEATURES = ["action_surprise", "window_surprise"]
NO_SEQUENCES_COMMAND = (
    "soc-anomaly detect --scenario enterprise --features entity --detectors all "
    f"--drop-features {','.join(SEQUENCE_FEATURES)} --no-plots --importance-repeats 0"
)
NO_SEQUENCES_CONFIG = {
    **ENTERPRISE_CONFIG,
    "features": "entity",
    "drop_features": SEQUENCE_FEATURES,
}
#: The rule tabulated, and the one shown beside it for comparison.
INCIDENT_RULE = "incident_queue"
EVENT_RULE = "daily_queue"


def _minutes(hours: float | None) -> str:
    return "-" if hours is None else f"{hours * 60:,.0f} min"


def _queue(model: dict[str, Any], rule: str) -> dict[str, Any]:
    campaigns = model.get("campaigns") or {}
    if rule not in campaigns:
        known = ", ".join(campaigns) or "none"
        raise BadInput(
            f"the run has no campaign results for rule {rule!r}; expected a detect "
            f"run on the enterprise world (its rules: {known})"
        )
    return campaigns[rule]


def at_seed(seed: int) -> Callable[[dict[str, Any]], str]:
    """:func:`enterprise_campaigns` of a run at ``--random-state seed`` only."""

    def render(document: dict[str, Any]) -> str:
        found = (document.get("config") or {}).get("random_state")
        if found != seed:
            raise BadInput(
                f"the run has random_state={found!r}, but the table documents "
                f"{ENTERPRISE_COMMAND} --random-state {seed}"
            )
        return enterprise_campaigns(document)

    return render


def without_sequences(document: dict[str, Any]) -> str:
    """:func:`enterprise_campaigns` of the run without the sequence features (seed 42)."""
    found = (document.get("config") or {}).get("random_state")
    if found != 42:
        raise BadInput(
            f"the run has random_state={found!r}, but the table documents {NO_SEQUENCES_COMMAND}"
        )
    return enterprise_campaigns(document, NO_SEQUENCES_COMMAND, NO_SEQUENCES_CONFIG)


def enterprise_campaigns(
    document: dict[str, Any],
    command: str = ENTERPRISE_COMMAND,
    expected: dict[str, Any] | None = None,
) -> str:
    """Campaigns caught per detector and feature set on the enterprise world.

    Parameters
    ----------
    document : dict
        The metrics.json written by ``soc-anomaly detect --scenario enterprise
        --features both --detectors all`` (with any ``--random-state``), or by
        ``command`` when given.
    command : str
        The documented command.
    expected : dict, optional
        Its settings (default: :data:`ENTERPRISE_CONFIG`, no feature dropped).

    Returns
    -------
    str
        The Markdown of ``docs/results/enterprise_campaigns[_SEED].md``: campaigns
        caught by the incident queue per scenario (caught of campaigns), in all, by
        intensity, the median time to detect, false incidents, then the event queue's
        campaigns caught beside it and the event-level PR AUC.
    """
    _check_config(document, expected or ENTERPRISE_CONFIG, command)
    config, models = document["config"], document["models"]
    dropped = config.get("drop_features") or []
    if expected is None and dropped:
        raise BadInput(f"its run drops {', '.join(dropped)}; the table documents `{command}`")
    blocks = {name: _queue(m, INCIDENT_RULE) for name, m in models.items()}
    events = {name: _queue(m, EVENT_RULE) for name, m in models.items()}
    scenarios = [s for s in SHORT if any(s in b["by_scenario"] for b in blocks.values())]
    n_campaigns = {b["n_campaigns"] for b in blocks.values()}.pop()
    head = ["detector", *(SHORT[s] for s in scenarios), "all", "by intensity b/m/s",
            "median TTD", "false incidents", "event queue", "PR AUC"]  # fmt: skip
    seed = config["random_state"]
    command += "" if seed == 42 else f" --random-state {seed}"
    without = (
        f", the detectors reading every feature but {' and '.join(dropped)}" if dropped else ""
    )
    lines = [
        _header(command, f"seed {seed}"),
        "",
        f"Seed {seed}, {config['n_users']:,} staff, {config['days']} days, "
        f"{n_campaigns} campaigns of {config['intensity']} intensity in the evaluated days"
        f"{without}; "
        f"campaigns caught by the daily incident queue of {config['incidents_per_day']:g} "
        "incidents a day per 500 staff, per scenario, in all and by intensity "
        "(blatant/moderate/subtle), the median time to detect and the false incidents "
        "(raised, holding no attack event) of the raised ones; then, for comparison, the "
        f"campaigns the daily event queue of {config['alerts_per_day']:g} alerts a day per "
        "500 staff catches, and the event-level PR AUC.",
        "",
        _row(head),
        _rule(["---"] * len(head)),
    ]
    for name, model in models.items():
        block = blocks[name]
        by, intensity = block["by_scenario"], block["by_intensity"]
        cells = [f"{by[s]['caught']}/{by[s]['n']}" if s in by else "-" for s in scenarios]
        levels = "/".join(str(intensity.get(i, {}).get("caught", "-"))
                          for i in ("blatant", "moderate", "subtle"))  # fmt: skip
        lines.append(
            _row(
                [
                    name,
                    *cells,
                    f"**{block['caught']}/{block['n_campaigns']}**",
                    levels,
                    _minutes(block["median_ttd_hours"]),
                    f"{block['false_alerts']}/{block['alerts']}",
                    f"{events[name]['caught']}/{events[name]['n_campaigns']}",
                    _f(model["pr_auc"], 3),
                ]
            )
        )
    return "\n".join(lines) + "\n"
