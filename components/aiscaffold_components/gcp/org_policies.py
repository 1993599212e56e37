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

Setting an organization policy on a project needs ``roles/orgpolicy.policyAdmin``,
which Google grants only on an organization
(https://cloud.google.com/iam/docs/roles-permissions/orgpolicy): a project owner gets
403, and a project outside an organization can have none. ``organization_policies=False``
creates none of them (a named weakening of GOV-02, GOV-06: the organization's
administrators set the constraints instead; GCP-DEPLOY-001 names them), keeping the
optional perimeter, which needs Access Context Manager rights on the access policy
instead.

``gcp.resourceLocations`` allows the ``in:<region>-locations`` value group of each
allowed region and nothing else, ``global`` included: the constraint governs only
resources whose location can be chosen, and leaves global ones (the Private Service
Connect global address and forwarding rule, Cloud DNS zones, the project's Model Armor
floor setting, which exists in every project at ``global``) alone, so they need no
exception. Allowing ``global`` would instead let location-selectable services that offer
a global location (such as automatic replication, or global endpoints) keep data
outside the allowed regions.

With ``vpc_sc_access_policy`` a VPC Service Controls perimeter surrounds the project
(PE-04); pair it with ``PrivateEndpoints(bundle="vpc-sc")``. It restricts the services
that hold the project's data or that the workload calls (:data:`PERIMETER_SERVICES`):
Vertex AI, Cloud Storage, Secret Manager and Cloud KMS, Model Armor (the templates and
every prompt screened), Cloud Logging and Monitoring (audit logs, screening logs and the
workload's telemetry) and Notebooks (Workbench). The VPC may call exactly those
(``vpcAccessibleServices`` ``RESTRICTED-SERVICES``, which stands for every restricted
service): a service the VPC could call without it being restricted would be a way out
for data, such as writing log entries into a project outside the perimeter.

A perimeter also refuses calls from outside it, the deployer's ``pulumi up`` from a
laptop or a CI runner included, once it is enforced. ``perimeter_deployers`` admits
named identities with an ingress rule (to the restricted services of this project,
from any network); ``perimeter_access_levels`` admits the requests matching access
levels the organization defines in Access Context Manager (corporate IP ranges, managed
devices) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, compact, wait_for_dependencies

__all__ = ["PERIMETER_SERVICES", "OrgPolicies", "OrgPoliciesArgs"]

#: Services the VPC Service Controls perimeter restricts, and the VPC may call: those
#: holding the project's data and those the workload calls (see the module docstring).
PERIMETER_SERVICES: tuple[str, ...] = (
    "aiplatform.googleapis.com",
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
    "cloudkms.googleapis.com",
    "modelarmor.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "notebooks.googleapis.com",
)

#: IAM member prefixes an ingress rule may name (VPC Service Controls admits individual
#: users and service accounts).
_DEPLOYER_PREFIXES = ("user:", "serviceAccount:")


@dataclass(frozen=True)
class OrgPoliciesArgs:
    """Arguments of :class:`OrgPolicies`. Each false flag is a named weakening."""

    project: pulumi.Input[str]
    """Project id."""

    project_number: pulumi.Input[str]
    """Project number (perimeter resources are named by number)."""

    allowed_regions: Sequence[str]
    """Regions resources may be created in (``gcp.resourceLocations``)."""

    organization_policies: bool = True
    """Set the constraints below on the project (needs ``roles/orgpolicy.policyAdmin`` on
    the organization). False creates none: the organization's administrators own them
    (the generated program's ``gcp_org_policies`` answer)."""

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
    """Services restricted by the perimeter, and the only ones the VPC may call."""

    perimeter_deployers: Sequence[str] = ()
    """Weakening (PE-04): identities (``user:<email>``, ``serviceAccount:<email>``)
    admitted from outside the perimeter, from any network, to the restricted services of
    this project, so they can deploy and operate it. Without one, ``pulumi up`` from
    outside the perimeter fails once it is enforced, unless an access level admits it."""

    perimeter_access_levels: Sequence[pulumi.Input[str]] = ()
    """Weakening (PE-04): Access Context Manager access levels
    (``accessPolicies/<p>/accessLevels/<name>``, defined by the organization: corporate
    IP ranges, managed devices) whose requests the perimeter admits from outside, to
    every restricted service, whoever makes them."""


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
        if (
            args.perimeter_deployers or args.perimeter_access_levels
        ) and args.vpc_sc_access_policy is None:
            raise ValueError(
                "perimeter_deployers and perimeter_access_levels need a perimeter "
                "(vpc_sc_access_policy)"
            )
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
        if not args.organization_policies:
            rules = {}
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
            self.perimeter_name = self._perimeter(name, args, args.vpc_sc_access_policy)

        self.register_outputs(
            {"policy_names": self.policy_names, "perimeter_name": self.perimeter_name}
        )

    def _perimeter(
        self, name: str, args: OrgPoliciesArgs, access_policy: pulumi.Input[str]
    ) -> pulumi.Output[str]:
        bad = [d for d in args.perimeter_deployers if not d.startswith(_DEPLOYER_PREFIXES)]
        if bad or any("*" in d for d in args.perimeter_deployers):
            raise ValueError(
                "perimeter_deployers take user:<email> or serviceAccount:<email> members, "
                f"not {', '.join(bad) or 'wildcards'}"
            )
        perimeter_id = compact(name, max_len=50, prefix="aiscaffold_")
        policy_parent = pulumi.Output.concat("accessPolicies/", access_policy)
        project = pulumi.Output.concat("projects/", args.project_number)
        services = list(args.perimeter_services)
        ingress = (
            [
                gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyArgs(
                    title="deployers",
                    ingress_from=gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyIngressFromArgs(
                        identities=list(args.perimeter_deployers),
                        # Any network: the deployer is admitted by identity alone.
                        sources=[
                            gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyIngressFromSourceArgs(
                                access_level="*"
                            )
                        ],
                    ),
                    ingress_to=gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyIngressToArgs(
                        resources=[project],
                        operations=[
                            gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyIngressToOperationArgs(
                                service_name=service,
                                method_selectors=[
                                    gcp.accesscontextmanager.ServicePerimeterStatusIngressPolicyIngressToOperationMethodSelectorArgs(
                                        method="*"
                                    )
                                ],
                            )
                            for service in services
                        ],
                    ),
                )
            ]
            if args.perimeter_deployers
            else None
        )
        perimeter = gcp.accesscontextmanager.ServicePerimeter(
            f"{name}-perimeter",
            parent=policy_parent,
            name=pulumi.Output.concat(policy_parent, "/servicePerimeters/", perimeter_id),
            title=perimeter_id,
            description="aiscaffold: the project's data and AI services stay inside",
            perimeter_type="PERIMETER_TYPE_REGULAR",
            status=gcp.accesscontextmanager.ServicePerimeterStatusArgs(
                resources=[project],
                restricted_services=services,
                access_levels=list(args.perimeter_access_levels) or None,
                # RESTRICTED-SERVICES: every restricted service above, and nothing else.
                vpc_accessible_services=gcp.accesscontextmanager.ServicePerimeterStatusVpcAccessibleServicesArgs(
                    enable_restriction=True, allowed_services=["RESTRICTED-SERVICES"]
                ),
                ingress_policies=ingress,
            ),
            opts=child_opts(self),
        )
        return perimeter.name
