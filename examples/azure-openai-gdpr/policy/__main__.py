"""Policy pack of azure-openai-gdpr: aiscaffold's policies and your own.

`pulumi preview --policy-pack policy` runs this file; `aiscaffold check` imports it and
evaluates the same policies offline. What aiscaffold enforces, and at which level, is in
enforcement.yaml (a stack added with `aiscaffold stack add` has its requirements in
enforcement.<stack>.yaml; overrides in enforcement.yaml hold for every stack);
policies of your own go in EXTRA_POLICIES below.
"""

import os
from pathlib import Path

from aiscaffold_components.policies import pulumi_policies, stack_requirements
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

# Pulumi starts the pack with PULUMI_STACK set to the stack being previewed.
REQUIREMENTS = stack_requirements(Path(__file__).parent, os.environ.get("PULUMI_STACK"))

# Your team's own pulumi-policy policies, run after aiscaffold's by both
# `pulumi preview --policy-pack policy` and `aiscaffold check`. Each one's
# enforcement_level decides (MANDATORY blocks, ADVISORY warns, DISABLED skips; unset
# is advisory); its name must not be an aiscaffold policy id. For example:
#
#     from pulumi_policy import (
#         EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity,
#     )
#
#     def cost_center(args: ResourceValidationArgs, report: ReportViolation) -> None:
#         tags = args.props.get("tags")
#         if tags is not None and "cost-center" not in tags:
#             report("no cost-center tag: finance cannot bill it", None)
#
#     EXTRA_POLICIES = [
#         ResourceValidationPolicy(
#             name="team-cost-center",
#             description="Every taggable resource names its cost center.",
#             validate=cost_center,
#             enforcement_level=EnforcementLevel.MANDATORY,
#             severity=Severity.LOW,
#             remediation_steps="Add a cost-center tag.",
#         ),
#     ]
EXTRA_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = []

if __name__ == "__main__":  # building the pack starts its gRPC server and blocks
    from pulumi_policy import PolicyPack

    PolicyPack(
        name="azure-openai-gdpr-security",
        policies=[*pulumi_policies(REQUIREMENTS), *EXTRA_POLICIES],
    )
