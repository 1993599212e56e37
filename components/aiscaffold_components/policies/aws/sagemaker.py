"""SageMaker AI: Studio domains and notebook instances stay inside the VPC, encrypted, unprivileged."""

from __future__ import annotations

from collections.abc import Iterator

from .._core import Requirements, Resource, resource_policy

DOMAIN = "aws:sagemaker/domain:Domain"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"


@resource_policy(
    id="AWS-SAGE-001",
    title="Studio domain reaches nothing but its VPC",
    severity="critical",
    types=[DOMAIN],
    controls=["NET-06"],
    remediation='Set app_network_access_type="VpcOnly" with private subnets (SageMakerWorkspace '
    "does unless public_internet_access=True).",
)
def domain_vpc_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The domain's apps run ``VpcOnly``: their traffic goes through the VPC, its endpoints
    and flow logs; the default (``PublicInternetOnly``) gives them SageMaker's own internet
    access."""
    mode = resource.get("appNetworkAccessType", default="PublicInternetOnly")
    if mode != "VpcOnly":
        yield f"{resource.name} gives its apps direct internet access ({mode})"


@resource_policy(
    id="AWS-SAGE-002",
    title="Studio domain encrypted with a project key",
    severity="high",
    types=[DOMAIN],
    controls=["KEY-01"],
    remediation="Set kms_key_id to the project's data key.",
)
def domain_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The home volume (EFS) and the spaces' storage are encrypted with the project's data
    key."""
    if not resource.get("kmsKeyId"):
        yield f"{resource.name} does not encrypt its storage with a project key"


@resource_policy(
    id="AWS-SAGE-003",
    title="Studio users cannot run Docker or share notebook output",
    severity="high",
    types=[DOMAIN],
    controls=["NET-06"],
    remediation='Keep domain_settings.docker_settings.enable_docker_access "DISABLED" and '
    'default_user_settings.sharing_settings.notebook_output_option "Disabled".',
)
def domain_unprivileged(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Docker access (the way to root inside a space) stays disabled, and notebook output
    is never copied to a sharing bucket outside the project's control."""
    docker = resource.get(
        "domainSettings", "dockerSettings", "enableDockerAccess", default="DISABLED"
    )
    if docker != "DISABLED":
        yield f"{resource.name} lets users run Docker ({docker})"
    sharing = resource.get("defaultUserSettings", "sharingSettings", "notebookOutputOption")
    if sharing == "Allowed":
        yield f"{resource.name} lets users share notebook output"


@resource_policy(
    id="AWS-SAGE-004",
    title="Studio calls carry the user's identity",
    severity="medium",
    types=[DOMAIN],
    controls=["LOG-01", "IAM-01"],
    remediation='Set domain_settings.execution_role_identity_config="USER_PROFILE_NAME".',
)
def domain_source_identity(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every call the shared execution role makes from Studio records the user profile as
    ``sts:SourceIdentity``, so the trail shows who acted."""
    value = resource.get("domainSettings", "executionRoleIdentityConfig", default="DISABLED")
    if value != "USER_PROFILE_NAME":
        yield f"{resource.name} does not record which user acted (source identity {value})"


@resource_policy(
    id="AWS-SAGE-005",
    title="Notebook instances without direct internet access",
    severity="critical",
    types=[NOTEBOOK],
    controls=["NET-06"],
    remediation='Set direct_internet_access="Disabled" and a private subnet_id.',
)
def notebook_no_internet(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Notebook instances run in a private subnet without SageMaker's direct internet
    access (on by default)."""
    if resource.get("directInternetAccess", default="Enabled") != "Disabled":
        yield f"{resource.name} has direct internet access"
    if not resource.get("subnetId"):
        yield f"{resource.name} runs outside the project's VPC"


@resource_policy(
    id="AWS-SAGE-006",
    title="Notebook instances without root access",
    severity="high",
    types=[NOTEBOOK],
    controls=["NET-06"],
    remediation='Set root_access="Disabled".',
)
def notebook_no_root(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Users of a notebook instance have no root access (on by default), so they cannot
    change its software or network setup."""
    if resource.get("rootAccess", default="Enabled") != "Disabled":
        yield f"{resource.name} gives its users root access"


@resource_policy(
    id="AWS-SAGE-007",
    title="Notebook instances encrypted with a project key",
    severity="high",
    types=[NOTEBOOK],
    controls=["KEY-01"],
    remediation="Set kms_key_id to the project's data key.",
)
def notebook_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The notebook's storage volume is encrypted with the project's data key."""
    if not resource.get("kmsKeyId"):
        yield f"{resource.name} does not encrypt its volume with a project key"


@resource_policy(
    id="AWS-SAGE-008",
    title="Studio home volumes outlive the domain",
    severity="low",
    types=[DOMAIN],
    controls=["GOV-04"],
    remediation='Keep retention_policy.home_efs_file_system "Retain" (absent means Retain); '
    "delete the volume yourself once its data is no longer needed.",
)
def domain_retains_home_volumes(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Deleting the domain keeps its EFS home volume (``Retain``, the default), so users'
    notebooks and data survive a mistaken or scripted deletion of the domain."""
    value = resource.get("retentionPolicy", "homeEfsFileSystem", default="Retain")
    if value != "Retain":
        yield f"{resource.name} deletes its users' home volume with the domain ({value})"
