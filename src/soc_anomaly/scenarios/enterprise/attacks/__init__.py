"""The enterprise world's attack scenarios, one module per family, in one table.

:data:`SCENARIOS` maps each ``attack_type`` to its
:class:`~soc_anomaly.scenarios.enterprise.attacks.base.AttackScenario`:
its ATT&CK techniques step by step, what it looks like, the signal that should
reveal it, and its injector.
"""

from __future__ import annotations

from types import MappingProxyType

from soc_anomaly.scenarios.enterprise.attacks import (
    access,
    c2,
    credential,
    exfiltration,
    lateral,
    mfa,
    takeover,
)
from soc_anomaly.scenarios.enterprise.attacks.base import (
    INTENSITIES,
    AttackContext,
    AttackScenario,
    CampaignSpec,
    Technique,
    UserHistory,
)

__all__ = [
    "INTENSITIES",
    "SCENARIOS",
    "AttackContext",
    "AttackScenario",
    "CampaignSpec",
    "Technique",
    "UserHistory",
]

SCENARIOS = MappingProxyType(
    {
        s.name: s
        for family in (credential, mfa, access, exfiltration, lateral, c2, takeover)
        for s in family.SCENARIOS
    }
)
