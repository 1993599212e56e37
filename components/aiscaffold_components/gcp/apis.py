"""Which Google API serves each pulumi-gcp resource type, and enabling exactly those.

Google refuses every call to an API the project has not enabled (``403
SERVICE_DISABLED: <API> has not been used in project <n> before or it is disabled``),
and enabling one takes effect only after the ``projects.Service`` resource exists. So
the list of APIs a stack enables cannot be written by hand: a component that starts
registering a new type would deploy only where someone happened to enable its API.

:data:`API_OF_MODULE` maps a pulumi-gcp module (the ``kms`` of
``gcp:kms/cryptoKey:CryptoKey``) to the API that serves it, with the Google reference
that names the API's endpoint; :data:`API_OF_TYPE` corrects it where a module mixes
APIs (``projects``: IAM policies go through Cloud Resource Manager, custom roles through
IAM), and :data:`API_OF_INPUT` adds an API a resource needs for one of its inputs (a
Private Service Connect forwarding rule registering in Service Directory).
:func:`apis_of` applies the three.

:class:`ServiceApis` enables, with one ``projects.Service`` named ``api-<name>`` per
API, the APIs of the resources the program registers, and makes each resource wait for
its own: registered as a stack transformation, it sees every resource before it is
created. GCP-DEPLOY-002 checks the result on a mock run.

Two APIs cannot be enabled by the stack itself: Service Usage (the API that enables the
others) and Cloud Resource Manager, which the provider calls to read the project
(``organizations.get_project``) and to enable services
(https://github.com/hashicorp/terraform-provider-google/issues/6101). Projects created
in the console have Service Usage on; both are :data:`PREREQUISITE_APIS`, enabled once
with ``gcloud services enable`` before the first ``pulumi up`` (the README says so).
Cloud Resource Manager is still enabled by the stack too, since its project IAM
resources use it, so the stack records it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pulumi_gcp as gcp

__all__ = [
    "API_OF_INPUT",
    "API_OF_MODULE",
    "API_OF_TYPE",
    "PREREQUISITE_APIS",
    "ServiceApis",
    "api_resource_name",
    "apis_of",
]

#: APIs the stack needs before it can enable any other (see the module docstring).
PREREQUISITE_APIS: tuple[str, ...] = (
    "serviceusage.googleapis.com",
    "cloudresourcemanager.googleapis.com",
)

#: API serving each pulumi-gcp module, with the reference naming the API's endpoint.
API_OF_MODULE: dict[str, tuple[str, str]] = {
    "accesscontextmanager": (
        "accesscontextmanager.googleapis.com",
        "https://cloud.google.com/access-context-manager/docs/reference/rest",
    ),
    "billing": (
        "billingbudgets.googleapis.com",
        "https://cloud.google.com/billing/docs/reference/budget/rest",
    ),
    "compute": (
        "compute.googleapis.com",
        "https://cloud.google.com/compute/docs/reference/rest/v1",
    ),
    "cloudrunv2": ("run.googleapis.com", "https://cloud.google.com/run/docs/reference/rest"),
    "dataloss": (
        "dlp.googleapis.com",
        "https://cloud.google.com/sensitive-data-protection/docs/reference/rest",
    ),
    "dns": ("dns.googleapis.com", "https://cloud.google.com/dns/docs/reference/rest/v1"),
    # Endpoints services (the AI gateway's API configuration) are Service Management's.
    "endpoints": (
        "servicemanagement.googleapis.com",
        "https://cloud.google.com/service-infrastructure/docs/service-management/reference/rest",
    ),
    "iam": ("iam.googleapis.com", "https://cloud.google.com/iam/docs/reference/rest"),
    "kms": ("cloudkms.googleapis.com", "https://cloud.google.com/kms/docs/reference/rest"),
    "logging": (
        "logging.googleapis.com",
        "https://cloud.google.com/logging/docs/reference/v2/rest",
    ),
    "modelarmor": (
        "modelarmor.googleapis.com",
        "https://cloud.google.com/security-command-center/docs/reference/model-armor/rest",
    ),
    "monitoring": (
        "monitoring.googleapis.com",
        "https://cloud.google.com/monitoring/api/ref_v3/rest",
    ),
    "networkconnectivity": (
        "networkconnectivity.googleapis.com",
        "https://cloud.google.com/network-connectivity/docs/reference/networkconnectivity/rest",
    ),
    "orgpolicy": (
        "orgpolicy.googleapis.com",
        "https://cloud.google.com/resource-manager/docs/reference/orgpolicy/rest",
    ),
    "organizations": (
        "cloudresourcemanager.googleapis.com",
        "https://cloud.google.com/resource-manager/reference/rest",
    ),
    "pubsub": ("pubsub.googleapis.com", "https://cloud.google.com/pubsub/docs/reference/rest"),
    "secretmanager": (
        "secretmanager.googleapis.com",
        "https://cloud.google.com/secret-manager/docs/reference/rest",
    ),
    "securitycenter": (
        "securitycenter.googleapis.com",
        "https://cloud.google.com/security-command-center/docs/reference/rest",
    ),
    "serviceaccount": (
        "iam.googleapis.com",
        "https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts",
    ),
    "servicedirectory": (
        "servicedirectory.googleapis.com",
        "https://cloud.google.com/service-directory/docs/reference/rest",
    ),
    "storage": ("storage.googleapis.com", "https://cloud.google.com/storage/docs/json_api"),
    "vertex": (
        "aiplatform.googleapis.com",
        "https://cloud.google.com/vertex-ai/docs/reference/rest",
    ),
    "workbench": (
        "notebooks.googleapis.com",
        "https://cloud.google.com/vertex-ai/docs/workbench/reference/rest",
    ),
}

#: Types served by another API than their module's. ``None``: only the prerequisites.
API_OF_TYPE: dict[str, tuple[str | None, str]] = {
    # Project IAM policies and audit configs are set with projects.setIamPolicy.
    **{
        f"gcp:projects/{t}": (
            "cloudresourcemanager.googleapis.com",
            "https://cloud.google.com/resource-manager/reference/rest/v3/projects/setIamPolicy",
        )
        for t in (
            "iAMMember:IAMMember",
            "iAMBinding:IAMBinding",
            "iAMPolicy:IAMPolicy",
            "iAMAuditConfig:IAMAuditConfig",
        )
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": (
        "iam.googleapis.com",
        "https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create",
    ),
    # Enabling an API and creating a service agent go through Service Usage itself.
    "gcp:projects/service:Service": (
        None,
        "https://cloud.google.com/service-usage/docs/reference/rest",
    ),
    "gcp:projects/serviceIdentity:ServiceIdentity": (
        None,
        "https://cloud.google.com/service-usage/docs/reference/rest/v1beta1/services/generateServiceIdentity",
    ),
    # Cross-bucket replication and transfers are jobs of Storage Transfer Service.
    "gcp:storage/transferJob:TransferJob": (
        "storagetransfer.googleapis.com",
        "https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferJobs",
    ),
    # Quota overrides are Service Usage's own (services.consumerQuotaMetrics.limits).
    "gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride": (
        None,
        "https://cloud.google.com/service-usage/docs/reference/rest/v1beta1/services.consumerQuotaMetrics.limits.consumerOverrides",
    ),
}

#: APIs a resource needs for one of its inputs: (type, input in engine camelCase) -> API.
API_OF_INPUT: dict[tuple[str, str], tuple[str, str]] = {
    # A PSC endpoint for Google APIs registers its name in Service Directory.
    ("gcp:compute/globalForwardingRule:GlobalForwardingRule", "serviceDirectoryRegistrations"): (
        "servicedirectory.googleapis.com",
        "https://cloud.google.com/vpc/docs/configure-private-service-connect-apis#service-directory",
    ),
    # ESPv2 checks and reports each call of an Endpoints service through Service Control.
    ("gcp:endpoints/service:Service", "openapiConfig"): (
        "servicecontrol.googleapis.com",
        "https://cloud.google.com/endpoints/docs/openapi/get-started-cloud-run#prerequisites",
    ),
}

#: Service agents exist once their service is enabled: a ServiceIdentity waits for it.
_SERVICE_INPUT_TYPES = ("gcp:projects/serviceIdentity:ServiceIdentity",)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _present(props: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` given in engine (camelCase) or Python (snake_case) form."""
    for candidate, value in props.items():
        if candidate == key or _camel(candidate) == key:
            return value
    return None


def apis_of(type_token: str, props: Mapping[str, Any] | None = None) -> set[str]:
    """The APIs a resource of ``type_token`` with ``props`` needs enabled in the project.

    Empty for types of other packages and for the prerequisites' own resources; a
    ``gcp:`` type of a module missing from :data:`API_OF_MODULE` raises, so a new
    resource type cannot slip past the enablement unmapped.
    """
    if not type_token.startswith("gcp:"):
        return set()
    props = props or {}
    found: set[str] = set()
    if type_token in API_OF_TYPE:
        api = API_OF_TYPE[type_token][0]
        if api is not None:
            found.add(api)
    else:
        module = type_token.split(":")[1].split("/")[0]
        if module not in API_OF_MODULE:
            raise KeyError(
                f"no API known for pulumi-gcp module {module!r} ({type_token}): add it to "
                "aiscaffold_components.gcp.apis.API_OF_MODULE with its source"
            )
        found.add(API_OF_MODULE[module][0])
    for (typ, key), (api, _source) in API_OF_INPUT.items():
        if typ == type_token and _present(props, key):
            found.add(api)
    if type_token in _SERVICE_INPUT_TYPES:
        service = _present(props, "service")
        if isinstance(service, str):
            found.add(service)
    return found


def api_resource_name(api: str) -> str:
    """The Pulumi name of the ``projects.Service`` enabling ``api`` (``api-cloudkms``)."""
    return f"api-{api.split('.')[0]}"


class ServiceApis:
    """Enables the API of every resource the program registers, before that resource.

    Register :meth:`transformation` with ``pulumi.runtime.register_stack_transformation``
    before the first resource. Each ``gcp:`` resource then waits (``depends_on``) for
    the ``projects.Service`` of each API :func:`apis_of` names for it, created at the
    first resource that needs it, at the stack's root.

    Args:
        project: project id the APIs are enabled in.
        always: APIs enabled whatever the resources (calls the program makes outside
            resources, such as invokes).
        disable_on_destroy: disable the APIs when the stack is destroyed. False (the
            default) leaves them on: other workloads in the project may use them.
    """

    def __init__(
        self,
        project: pulumi.Input[str],
        *,
        always: Iterable[str] = (),
        disable_on_destroy: bool = False,
    ) -> None:
        self._project = project
        self._disable_on_destroy = disable_on_destroy
        self.services: dict[str, gcp.projects.Service] = {}
        for api in always:
            self.enable(api)

    def enable(self, api: str) -> gcp.projects.Service:
        """The ``projects.Service`` enabling ``api``, created on first use."""
        if api not in self.services:
            self.services[api] = gcp.projects.Service(
                api_resource_name(api),
                project=self._project,
                service=api,
                disable_on_destroy=self._disable_on_destroy,
            )
        return self.services[api]

    def transformation(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        """Add the ``projects.Service`` of the resource's APIs to its ``depends_on``."""
        props = args.props if isinstance(args.props, Mapping) else {}
        apis = apis_of(args.type_, props)
        if not apis:
            return None
        waits = [self.enable(api) for api in sorted(apis)]
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=waits))
        return pulumi.ResourceTransformationResult(args.props, opts)
