"""Deploy rules: what the clouds would refuse, lock for good, or share account-wide.

Policies judge security intent; deploy rules judge what the cloud's API will accept.
Each rule is a cloud constraint kept as data next to its source (the cloud's own
documentation or a public issue report) and the error the cloud returns, checked
offline against the same mock run as the policies (see :mod:`._core`). ``aiscaffold
check`` reports them in their own categories:

``would fail at deploy``  the cloud refuses the request: blocks like a mandatory policy
``irreversible``          the first ``pulumi up`` does something no later one can undo
``account-wide``          a singleton of the account, region or subscription: another
                          stack's ``pulumi up`` or ``destroy`` touches it too
``lifecycle``             deprecated by the cloud (a model past its no-new-customers
                          date): works today, may be refused to new subscriptions

Rules live per cloud in ``aws.py``, ``azure.py``, ``gcp.py`` and across clouds in
``common.py``.
"""

from __future__ import annotations

from ._core import (
    CATEGORY_TITLES,
    Category,
    DeployContext,
    DeployRule,
    RuleFinding,
    deploy_rule,
    deploy_rules,
    evaluate_rules,
)

__all__ = [
    "CATEGORY_TITLES",
    "Category",
    "DeployContext",
    "DeployRule",
    "RuleFinding",
    "deploy_rule",
    "deploy_rules",
    "evaluate_rules",
]
