"""The AI service: a private, CMEK Vertex AI endpoint, datasets bucket and Workbench.

The endpoint is reachable only through Private Service Connect: Vertex AI's current
private online prediction option (``private_service_connect_config``; the older VPC
peering ``network`` option excludes it). Only the project itself may connect, and PSC
automation creates the consumer endpoint in the workload VPC once a model is deployed.
Its content is encrypted with the vertex key (``encryption_spec``). The workload is
granted the invoker role on this endpoint.

The datasets and artifacts bucket is a :class:`~aiscaffold_components.gcp.SecureBucket`
the workload may read and add objects to. The optional Workbench instance has no public
IP, Shielded VM, CMEK boot and data disks, runs as the workload service account, and
has root access, file downloads and nbconvert export disabled, project SSH keys
blocked and OS Login on.

The instance does not register with the Workbench proxy (``disable_proxy_access``):
the proxy publishes JupyterLab on a Google-hosted URL reachable from any network,
guarded by IAM alone, past the VPC's deny-all ingress firewall (the instance's agent
dials out to the proxy). Without it, users reach JupyterLab through Identity-Aware Proxy TCP
forwarding, an SSH tunnel that authenticates with IAM and OS Login:
``gcloud compute ssh <instance> --zone <zone> --tunnel-through-iap -- -NL
8080:localhost:8080``, then http://localhost:8080. That needs, per user,
``roles/iap.tunnelResourceAccessor`` and ``roles/compute.osLogin`` on the instance and
``roles/iam.serviceAccountUser`` on the workload service account the instance runs as,
and an ingress firewall rule allowing tcp:22 from IAP's range ``35.235.240.0/20`` to
the instance: grants and a rule this component does not make, as each lets people in
(the deny-all ingress baseline stays otherwise). ``workbench_proxy_access`` turns the
proxy on instead, for the console's "Open JupyterLab" button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, labels_of, wait_for_dependencies
from .storage import SecureBucket, SecureBucketArgs

__all__ = ["WORKBENCH_METADATA", "VertexAI", "VertexAIArgs"]

#: Metadata hardening of the Workbench instance.
WORKBENCH_METADATA: dict[str, str] = {
    "notebook-disable-root": "true",
    "notebook-disable-downloads": "true",
    "notebook-disable-nbconvert": "true",
    "block-project-ssh-keys": "true",
    "enable-oslogin": "TRUE",
    "serial-port-enable": "false",
}


@dataclass(frozen=True)
class VertexAIArgs:
    """Arguments of :class:`VertexAI`."""

    project: pulumi.Input[str]
    """Project id (the only project allowed to connect to the endpoint)."""

    region: pulumi.Input[str]
    """Region of the endpoint, bucket and Workbench instance."""

    network_id: pulumi.Input[str]
    """The workload VPC (``Network.network_id``): PSC endpoints are created in it."""

    kms_key_name: pulumi.Input[str]
    """The vertex key: endpoint and Workbench disks."""

    datasets_kms_key_name: pulumi.Input[str]
    """The data key: datasets bucket."""

    invoker: pulumi.Input[str] | None = None
    """IAM member (the workload) granted ``invoker_role`` on the endpoint and object
    read/create on the datasets bucket."""

    invoker_role: pulumi.Input[str] | None = None
    """Role granted to ``invoker`` on the endpoint (``WorkloadIdentity.invoker_role``)."""

    private_endpoint: bool = True
    """Weakening when false (PE-01): the endpoint is served on the public Vertex AI
    API instead of through Private Service Connect."""

    workbench: bool = False
    """Create a Vertex AI Workbench instance for notebooks."""

    workbench_subnet_id: pulumi.Input[str] | None = None
    """Subnet of the Workbench instance (``Network.subnet_id``); needed with workbench."""

    workbench_service_account: pulumi.Input[str] | None = None
    """Email of the account the instance runs as (``WorkloadIdentity.email``)."""

    workbench_zone: pulumi.Input[str] | None = None
    """Zone of the instance; the region's first zone if unset."""

    workbench_machine_type: str = "e2-standard-4"
    """Machine type of the instance."""

    workbench_proxy_access: bool = False
    """Weakening (NET-06): register the instance with the Workbench proxy, so JupyterLab
    opens from the Google Cloud console on a Google-hosted URL reachable from the
    internet (IAM still decides who). Off, users tunnel through IAP (module docstring)."""

    datasets_retention_days: int | None = None
    """Retention policy of the datasets bucket (``None``: versioning instead)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the endpoint, bucket and instance."""


class VertexAI(pulumi.ComponentResource):
    """A private CMEK Vertex AI endpoint, a datasets bucket and optional Workbench."""

    endpoint_id: pulumi.Output[str]
    """Id of the endpoint (``projects/<p>/locations/<r>/endpoints/<n>``)."""
    endpoint_name: pulumi.Output[str]
    datasets_bucket_name: pulumi.Output[str]
    workbench_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: VertexAIArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:VertexAI", name, None, opts)
        wait_for_dependencies(self, opts)
        labels = labels_of(args.labels)
        child = child_opts(self)

        endpoint = gcp.vertex.AiEndpoint(
            f"{name}-endpoint",
            project=args.project,
            location=args.region,
            region=args.region,
            display_name=f"{name} endpoint",
            description="Private online prediction endpoint (aiscaffold)",
            encryption_spec=gcp.vertex.AiEndpointEncryptionSpecArgs(kms_key_name=args.kms_key_name),
            private_service_connect_config=(
                gcp.vertex.AiEndpointPrivateServiceConnectConfigArgs(
                    enable_private_service_connect=True,
                    project_allowlists=[args.project],
                    psc_automation_configs=[
                        gcp.vertex.AiEndpointPrivateServiceConnectConfigPscAutomationConfigArgs(
                            project_id=args.project, network=args.network_id
                        )
                    ],
                )
                if args.private_endpoint
                else None
            ),
            labels=labels,
            opts=child,
        )
        if args.invoker is not None and args.invoker_role is not None:
            gcp.vertex.AiEndpointIamMember(
                f"{name}-endpoint-invoker",
                project=args.project,
                location=args.region,
                endpoint=endpoint.name,
                role=args.invoker_role,
                member=args.invoker,
                opts=child,
            )

        members = [args.invoker] if args.invoker is not None else []
        datasets = SecureBucket(
            f"{name}-datasets",
            SecureBucketArgs(
                project=args.project,
                location=args.region,
                kms_key_name=args.datasets_kms_key_name,
                retention_days=args.datasets_retention_days,
                object_viewers=members,
                object_creators=members,
                labels=args.labels,
            ),
            opts=child,
        )

        self.workbench_name = None
        if args.workbench:
            self.workbench_name = self._workbench(name, args, labels)

        self.endpoint_id = endpoint.id
        self.endpoint_name = endpoint.name
        self.datasets_bucket_name = datasets.bucket_name
        self.register_outputs(
            {
                "endpoint_id": self.endpoint_id,
                "endpoint_name": self.endpoint_name,
                "datasets_bucket_name": self.datasets_bucket_name,
                "workbench_name": self.workbench_name,
            }
        )

    def _workbench(
        self, name: str, args: VertexAIArgs, labels: dict[str, str]
    ) -> pulumi.Output[str]:
        if args.workbench_subnet_id is None or args.workbench_service_account is None:
            raise ValueError("workbench needs workbench_subnet_id and workbench_service_account")
        zone: pulumi.Input[str]
        if args.workbench_zone is not None:
            zone = args.workbench_zone
        else:
            zones = gcp.compute.get_zones_output(
                project=args.project,
                region=args.region,
                status="UP",
                opts=pulumi.InvokeOptions(parent=self),
            )
            zone = zones.names.apply(lambda names: sorted(names)[0])
        cmek = "CMEK"
        instance = gcp.workbench.Instance(
            f"{name}-workbench",
            project=args.project,
            location=zone,
            gce_setup=gcp.workbench.InstanceGceSetupArgs(
                machine_type=args.workbench_machine_type,
                disable_public_ip=True,
                enable_ip_forwarding=False,
                network_interfaces=[
                    gcp.workbench.InstanceGceSetupNetworkInterfaceArgs(
                        network=args.network_id, subnet=args.workbench_subnet_id, nic_type="GVNIC"
                    )
                ],
                service_accounts=[
                    gcp.workbench.InstanceGceSetupServiceAccountArgs(
                        email=args.workbench_service_account
                    )
                ],
                shielded_instance_config=gcp.workbench.InstanceGceSetupShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True
                ),
                boot_disk=gcp.workbench.InstanceGceSetupBootDiskArgs(
                    disk_encryption=cmek, kms_key=args.kms_key_name
                ),
                data_disks=gcp.workbench.InstanceGceSetupDataDisksArgs(
                    disk_encryption=cmek, kms_key=args.kms_key_name
                ),
                metadata=WORKBENCH_METADATA,
            ),
            disable_proxy_access=not args.workbench_proxy_access,
            labels=labels,
            opts=child_opts(self),
        )
        return instance.name
