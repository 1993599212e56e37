"""Vertex AI: private CMEK endpoints, CMEK everywhere, hardened Workbench instances."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .._core import NotApplicable, Requirements, Resource, resource_policy
from ._util import project_of

ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
WORKBENCH = "gcp:workbench/instance:Instance"

#: Vertex AI resources that take a customer-managed key (``encryptionSpec``).
CMEK_TYPES = tuple(
    f"gcp:vertex/{name[0].lower()}{name[1:]}:{name}"
    for name in (
        "AiEndpoint",
        "AiDataset",
        "AiFeatureOnlineStore",
        "AiFeatureStore",
        "AiIndex",
        "AiIndexEndpoint",
        "AiMetadataStore",
        "AiPersistentResource",
        "AiRagCorpus",
        "AiReasoningEngine",
        "AiTensorboard",
    )
)

#: Workbench metadata that hardens the instance: key, expected value, what it does.
HARDENING_METADATA = (
    ("notebook-disable-root", "true", "root access disabled"),
    ("notebook-disable-downloads", "true", "file downloads disabled"),
    ("notebook-disable-nbconvert", "true", "nbconvert export disabled"),
    ("block-project-ssh-keys", "true", "project SSH keys blocked"),
    ("enable-oslogin", "true", "OS Login"),
    ("serial-port-enable", "false", "serial port disabled"),
)
_DEFAULT_COMPUTE = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")


@resource_policy(
    id="GCP-VERTEX-001",
    title="Vertex AI endpoints are private",
    severity="high",
    types=[ENDPOINT],
    controls=["PE-01", "PE-03", "NET-06"],
    remediation="Enable private_service_connect_config on the endpoint "
    "(VertexAI(private_endpoint=True) does), or peer it to the VPC with network.",
)
def private_endpoint(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Online prediction is served only inside the network: through Private Service
    Connect (or, the older option, VPC peering), never on the public Vertex AI API."""
    psc = resource.get("privateServiceConnectConfig", "enablePrivateServiceConnect")
    if psc is not True and not resource.get("network"):
        yield f"{resource.name} is served on the public Vertex AI API"


@resource_policy(
    id="GCP-VERTEX-002",
    title="Only the project itself may connect to a private endpoint",
    severity="medium",
    types=[ENDPOINT],
    controls=["PE-04"],
    remediation="List only the endpoint's own project in "
    "private_service_connect_config.project_allowlists.",
)
def endpoint_allowlist(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Private Service Connect to the endpoint is allowed from the endpoint's own project
    only, so another project cannot open a path to the model."""
    if resource.get("privateServiceConnectConfig", "enablePrivateServiceConnect") is not True:
        raise NotApplicable("the endpoint does not use Private Service Connect")
    allowed = [str(p) for p in resource.items("privateServiceConnectConfig", "projectAllowlists")]
    if not allowed:
        yield f"{resource.name} names no project allowed to connect"
        return
    own = project_of(resource)
    others = [p for p in allowed if p != own]
    if others:
        yield f"{resource.name} lets {', '.join(others)} connect"


@resource_policy(
    id="GCP-VERTEX-003",
    title="Vertex AI resources are encrypted with a customer-managed key",
    severity="high",
    types=CMEK_TYPES,
    controls=["KEY-01"],
    remediation="Set encryption_spec.kms_key_name to the vertex key.",
)
def vertex_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Models, endpoints, datasets, indexes and the rest of Vertex AI's stored content
    are encrypted with the project's vertex key."""
    if not resource.get("encryptionSpec", "kmsKeyName"):
        yield f"{resource.name} has no customer-managed key"


@resource_policy(
    id="GCP-VERTEX-004",
    title="Workbench instances have no public IP",
    severity="critical",
    types=[WORKBENCH],
    controls=["NET-06", "NET-01"],
    remediation="Set gce_setup.disable_public_ip=True and leave IP forwarding off.",
)
def workbench_private(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A notebook runs inside the private network: no external address, and it does not
    forward other machines' traffic."""
    if resource.get("gceSetup", "disablePublicIp") is not True:
        yield f"{resource.name} gets a public IP address"
    if resource.get("gceSetup", "enableIpForwarding") is True:
        yield f"{resource.name} forwards IP traffic"


@resource_policy(
    id="GCP-VERTEX-005",
    title="Workbench disks are encrypted with a customer-managed key",
    severity="high",
    types=[WORKBENCH],
    controls=["KEY-01", "NET-06"],
    remediation="Set disk_encryption='CMEK' and kms_key on the boot and data disks.",
)
def workbench_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The boot and data disks of a notebook are encrypted with the vertex key."""
    for disk, what in (("bootDisk", "boot disk"), ("dataDisks", "data disk")):
        if resource.get("gceSetup", disk, "diskEncryption") != "CMEK" or not resource.get(
            "gceSetup", disk, "kmsKey"
        ):
            yield f"{resource.name} {what} has no customer-managed key"


@resource_policy(
    id="GCP-VERTEX-006",
    title="Workbench instances disable root, downloads, project SSH keys and the serial port",
    severity="medium",
    types=[WORKBENCH],
    controls=["NET-06"],
    remediation="Set the instance metadata: "
    + ", ".join(f"{k}={v}" for k, v, _ in HARDENING_METADATA)
    + ".",
)
def workbench_metadata(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A notebook user has no root access and cannot download files or export notebooks
    out of the environment; SSH goes through OS Login only and the serial console is
    off."""
    metadata = resource.get("gceSetup", "metadata", default={})
    for key, expected, what in HARDENING_METADATA:
        value = str(metadata.get(key, "")).lower()
        if value != expected:
            yield f"{resource.name} lacks {what} (metadata {key}={expected})"


@resource_policy(
    id="GCP-VERTEX-007",
    title="Workbench instances run as Shielded VMs",
    severity="medium",
    types=[WORKBENCH],
    controls=["NET-06"],
    remediation="Set gce_setup.shielded_instance_config with secure boot, vTPM and "
    "integrity monitoring enabled.",
)
def workbench_shielded(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secure boot, vTPM and integrity monitoring verify what the notebook boots (vTPM
    and integrity monitoring are on by default, secure boot is not)."""
    for key, what, default in (
        ("enableSecureBoot", "secure boot", False),
        ("enableVtpm", "vTPM", True),
        ("enableIntegrityMonitoring", "integrity monitoring", True),
    ):
        if resource.get("gceSetup", "shieldedInstanceConfig", key, default=default) is not True:
            yield f"{resource.name} runs without {what}"


@resource_policy(
    id="GCP-VERTEX-008",
    title="Workbench instances run as a dedicated service account",
    severity="medium",
    types=[WORKBENCH],
    controls=["IAM-01"],
    remediation="Set gce_setup.service_accounts to the workload's service account.",
)
def workbench_identity(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A notebook acts as the workload's own service account, never as the Compute Engine
    default account shared by every instance without one."""
    emails = [str(a.get("email", "")) for a in resource.items("gceSetup", "serviceAccounts")]
    if not emails or not all(emails):
        yield f"{resource.name} runs as the Compute Engine default service account"
    for email in emails:
        if _DEFAULT_COMPUTE.match(email):
            yield f"{resource.name} runs as the Compute Engine default service account {email}"


@resource_policy(
    id="GCP-VERTEX-009",
    title="Workbench instances are not published through the Workbench proxy",
    severity="medium",
    types=[WORKBENCH],
    controls=["NET-06"],
    remediation="Set disable_proxy_access=True (VertexAI does unless "
    "workbench_proxy_access=True) and reach JupyterLab through an IAP SSH tunnel.",
)
def workbench_no_proxy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A notebook is reached from inside the network (an IAP tunnel authenticated with
    IAM and OS Login), not published on the Workbench proxy's Google-hosted URL, which
    any network reaches past the VPC's deny-all ingress. The proxy is on unless
    disabled."""
    if resource.get("disableProxyAccess") is not True:
        yield f"{resource.name} publishes JupyterLab through the Workbench proxy"
