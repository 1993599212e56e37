"""Project guardrails: organization policy constraints and an optional VPC-SC perimeter.

``orgpolicy.Policy`` resources with the project as parent enforce, for everything
created in the project by anyone:

==============================================  ============================================
constraint                                      effect
==============================================  ============================================
iam.disableServiceAccountKeyCreation            no service account keys (IAM-03)
compute.vmExternalIpAccess                      no VM may have an external IP (deny all)
storage.publicAccessPrevention                  no bucket can be made public
storage.uniformBucketLevelAccess                no object ACLs
gcp.resourceLocations                           resources only in the allowed regions (GOV-02)
compute.requireOsLogin                          SSH only through OS Login (IAM)
compute.requireShieldedVm                       Shielded VM images only
compute.disableSerialPortAccess                 no interactive serial console
ainotebooks.restrictPublicIp                    no public IP on Workbench instances
iam.automaticIamGrantsForDefaultServiceAccounts no Editor role for default service accounts
==============================================  ============================================

Setting an organization policy on a project needs ``roles/orgpolicy.policyAdmin``
granted at organization level to whoever deploys.

With ``vpc_sc_access_policy`` a VPC Service Controls perimeter surrounds the project
and restricts the AI, storage, secret and key services to it (PE-04); pair it with
``PrivateEndpoints(bundle="vpc-sc")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, compact, wait_for_dependencies

__all__ = ["PERIMETER_SERVICES", "OrgPolicies", "OrgPoliciesArgs"]

#: Services the VPC Service Controls perimeter restricts.
PERIMETER_SERVICES: tuple[str, ...] = (
    "aiplatform.googleapis.com",
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
    "cloudkms.googleapis.com",
)


@dataclass(frozen=True)
class OrgPoliciesArgs:
    """Arguments of :class:`OrgPolicies`. Each false flag is a named weakening."""

    project: pulumi.Input[str]
    """Project id."""

    project_number: pulumi.Input[str]
    """Project number (perimeter resources are named by number)."""

    allowed_regions: Sequence[str]
    """Regions resources may be created in (``gcp.resourceLocations``)."""

    disable_service_account_keys: bool = True
    """``iam.disableServiceAccountKeyCreation``; false allows service account keys."""

    restrict_vm_external_ips: bool = True
    """``compute.vmExternalIpAccess`` denied to all; false allows external IPs."""

    enforce_public_access_prevention: bool = True
    """``storage.publicAccessPrevention``; false lets buckets be made public."""

    enforce_uniform_bucket_level_access: bool = True
    """``storage.uniformBucketLevelAccess``; false allows object ACLs."""

    require_os_login: bool = True
    """``compute.requireOsLogin``; false allows metadata SSH keys."""

    require_shielded_vm: bool = True
    """``compute.requireShieldedVm``; false allows images without Shielded VM."""

    disable_serial_port_access: bool = True
    """``compute.disableSerialPortAccess``; false allows interactive serial consoles."""

    restrict_workbench_public_ip: bool = True
    """``ainotebooks.restrictPublicIp``; false allows Workbench instances with public IPs."""

    disable_default_service_account_grants: bool = True
    """``iam.automaticIamGrantsForDefaultServiceAccounts``; false lets new default
    service accounts receive the Editor role."""

    vpc_sc_access_policy: pulumi.Input[str] | None = None
    """Access Context Manager policy number; when set, a service perimeter surrounds
    the project."""

    perimeter_services: Sequence[str] = PERIMETER_SERVICES
    """Services restricted by the perimeter."""


class OrgPolicies(pulumi.ComponentResource):
    """Project-level organization policy constraints and an optional perimeter."""

    policy_names: dict[str, pulumi.Output[str]]
    """Policy resource name per constraint."""
    perimeter_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: OrgPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:OrgPolicies", name, None, opts)
        wait_for_dependencies(self, opts)
        if not args.allowed_regions:
            raise ValueError("allowed_regions must name at least one region")
        parent = pulumi.Output.concat("projects/", args.project)
        enforce = [gcp.orgpolicy.PolicySpecRuleArgs(enforce="TRUE")]
        rules: dict[str, list[gcp.orgpolicy.PolicySpecRuleArgs]] = {}
        for constraint, wanted in (
            ("iam.disableServiceAccountKeyCreation", args.disable_service_account_keys),
            ("storage.publicAccessPrevention", args.enforce_public_access_prevention),
            ("storage.uniformBucketLevelAccess", args.enforce_uniform_bucket_level_access),
            ("compute.requireOsLogin", args.require_os_login),
            ("compute.requireShieldedVm", args.require_shielded_vm),
            ("compute.disableSerialPortAccess", args.disable_serial_port_access),
            ("ainotebooks.restrictPublicIp", args.restrict_workbench_public_ip),
            (
                "iam.automaticIamGrantsForDefaultServiceAccounts",
                args.disable_default_service_account_grants,
            ),
        ):
            if wanted:
                rules[constraint] = enforce
        if args.restrict_vm_external_ips:
            rules["compute.vmExternalIpAccess"] = [
                gcp.orgpolicy.PolicySpecRuleArgs(deny_all="TRUE")
            ]
        rules["gcp.resourceLocations"] = [
            gcp.orgpolicy.PolicySpecRuleArgs(
                values=gcp.orgpolicy.PolicySpecRuleValuesArgs(
                    allowed_values=[f"in:{region}-locations" for region in args.allowed_regions]
                )
            )
        ]

        self.policy_names = {}
        for constraint, rule in rules.items():
            policy = gcp.orgpolicy.Policy(
                f"{name}-{constraint.replace('.', '-').lower()}",
                parent=parent,
                name=pulumi.Output.concat(parent, "/policies/", constraint),
                spec=gcp.orgpolicy.PolicySpecArgs(rules=rule),
                opts=child_opts(self),
            )
            self.policy_names[constraint] = policy.name

        self.perimeter_name = None
        if args.vpc_sc_access_policy is not None:
            perimeter_id = compact(name, max_len=50, prefix="aiscaffold_")
            policy_parent = pulumi.Output.concat("accessPolicies/", args.vpc_sc_access_policy)
            perimeter = gcp.accesscontextmanager.ServicePerimeter(
                f"{name}-perimeter",
                parent=policy_parent,
                name=pulumi.Output.concat(policy_parent, "/servicePerimeters/", perimeter_id),
                title=perimeter_id,
                description="aiscaffold: AI, storage, secret and key services stay inside",
                perimeter_type="PERIMETER_TYPE_REGULAR",
                status=gcp.accesscontextmanager.ServicePerimeterStatusArgs(
                    resources=[pulumi.Output.concat("projects/", args.project_number)],
                    restricted_services=list(args.perimeter_services),
                    vpc_accessible_services=gcp.accesscontextmanager.ServicePerimeterStatusVpcAccessibleServicesArgs(
                        enable_restriction=True, allowed_services=["RESTRICTED-SERVICES"]
                    ),
                ),
                opts=child_opts(self),
            )
            self.perimeter_name = perimeter.name

        self.register_outputs(
            {"policy_names": self.policy_names, "perimeter_name": self.perimeter_name}
        )
