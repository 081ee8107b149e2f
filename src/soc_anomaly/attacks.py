"""The static table of attack scenarios and their MITRE ATT&CK techniques.

Every injected anomaly carries the ``name`` of its scenario in the
``attack_type`` column and the scenario's ``technique_id`` in the
``mitre_technique`` column. This table is the single source of both, so a
label can always be traced back to a documented technique.
"""

from __future__ import annotations

from dataclasses import dataclass

from soc_anomaly.data.schema import NO_TECHNIQUE, NORMAL_ATTACK_TYPE


@dataclass(frozen=True)
class AttackScenario:
    """One injectable attack and where it sits in MITRE ATT&CK.

    Attributes
    ----------
    name : str
        Value of the ``attack_type`` column.
    technique_id : str
        MITRE ATT&CK technique (or sub-technique) id, e.g. ``"T1110.001"``.
    technique_name : str
        The technique's name in ATT&CK.
    tactic : str
        The ATT&CK tactic the behaviour serves.
    description : str
        What the injected events look like, in analyst terms.
    """

    name: str
    technique_id: str
    technique_name: str
    tactic: str
    description: str


ATTACK_SCENARIOS: dict[str, AttackScenario] = {
    s.name: s
    for s in (
        AttackScenario(
            name="exfiltration",
            technique_id="T1048",
            technique_name="Exfiltration Over Alternative Protocol",
            tactic="Exfiltration",
            description=(
                "a session far outside the user's working hours from an untrusted device "
                "that sends 40-400x the user's usual outbound volume"
            ),
        ),
        AttackScenario(
            name="impossible_travel",
            technique_id="T1078",
            technique_name="Valid Accounts",
            tactic="Initial Access",
            description=(
                "a successful login from another country thousands of kilometres from the "
                "user's home, at the user's usual hour"
            ),
        ),
        AttackScenario(
            name="brute_force",
            technique_id="T1110.001",
            technique_name="Brute Force: Password Guessing",
            tactic="Credential Access",
            description=(
                "a storm of 20-50 failed logins with no success, at any hour, from anywhere"
            ),
        ),
    )
}


def technique_for(attack_type: str) -> str:
    """Return the MITRE technique id recorded for ``attack_type``.

    Parameters
    ----------
    attack_type : str
        A scenario name from :data:`ATTACK_SCENARIOS` or ``"normal"``.

    Returns
    -------
    str
        The technique id, or ``"none"`` for normal events.
    """
    if attack_type == NORMAL_ATTACK_TYPE:
        return NO_TECHNIQUE
    return ATTACK_SCENARIOS[attack_type].technique_id
