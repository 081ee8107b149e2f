"""Print a run's campaign results as the Markdown table of the README.

Usage::

    soc-anomaly detect --scenario enterprise --features both --detectors all
    python scripts/campaign_table.py plots/metrics.json [--rule daily_queue]

One row per detector and feature set: campaigns caught per scenario (caught of
campaigns), in all, the median time to detect, and the event-level PR AUC.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Short column headings for the scenarios, in the README's order.
SHORT = {
    "brute_force": "brute",
    "password_spray": "spray",
    "credential_stuffing": "stuff",
    "mfa_fatigue": "mfa",
    "impossible_travel": "travel",
    "bulk_exfiltration": "bulk",
    "low_and_slow_exfiltration": "slow",
    "lateral_movement": "lateral",
    "beaconing": "beacon",
    "account_takeover": "takeover",
}


def _minutes(hours: float | None) -> str:
    return "-" if hours is None else f"{hours * 60:,.0f} min"


def table(document: dict, rule: str) -> list[str]:
    """The Markdown lines of the table."""
    models = document["models"]
    scenarios = [
        s for s in SHORT if any(s in _block(m, rule)["by_scenario"] for m in models.values())
    ]
    head = ["detector", *(SHORT[s] for s in scenarios), "all", "by intensity b/m/s",
            "median TTD", "PR AUC"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, model in models.items():
        block = _block(model, rule)
        by, inten = block["by_scenario"], block["by_intensity"]
        cells = [f"{by[s]['caught']}/{by[s]['n']}" if s in by else "-" for s in scenarios]
        levels = "/".join(str(inten.get(i, {}).get("caught", "-")) for i in
                          ("blatant", "moderate", "subtle"))  # fmt: skip
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    *cells,
                    f"**{block['caught']}/{block['n_campaigns']}**",
                    levels,
                    _minutes(block["median_ttd_hours"]),
                    f"{model['pr_auc']:.3f}",
                ]
            )
            + " |"
        )
    return lines


class _BadInput(Exception):
    """Input that is not what the script expects; the message is the one line to print."""


def _block(model: dict, rule: str) -> dict:
    campaigns = model.get("campaigns") or {}
    if rule not in campaigns:
        known = ", ".join(campaigns) or "none"
        raise _BadInput(
            f"the run has no campaign results for rule {rule!r}; expected a detect "
            f"run on the enterprise world (its rules: {known})"
        )
    return campaigns[rule]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics", type=Path, help="metrics.json of a detect run on the world")
    parser.add_argument("--rule", default="daily_queue", help="campaign rule to tabulate")
    args = parser.parse_args()
    try:
        document = json.loads(args.metrics.read_text(encoding="utf-8"))
        lines = table(document, args.rule)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.metrics}: {exc}; expected a metrics.json", file=sys.stderr)
        return 2
    except _BadInput as exc:
        print(f"error: {args.metrics}: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError) as exc:
        print(
            f"error: {args.metrics} lacks {exc}; expected the metrics.json of a detect run",
            file=sys.stderr,
        )
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
