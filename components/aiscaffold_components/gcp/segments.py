"""Workload segmentation: an identity, a subnet and data stores per workload type.

Inference is the project's existing workload (``WorkloadIdentity``, ``Network``'s
subnet, ``VertexAI``'s datasets bucket, which is the curated data zone). This component
adds, only for the workload types a project chooses beyond it:

``training``
    a service account with a project-level custom role holding exactly the Vertex AI
    permissions that run custom training and tuning jobs (:data:`TRAINING_PERMISSIONS`;
    no ``aiplatform.endpoints.predict`` and no ``generateContent``: the predefined
    ``roles/aiplatform.user`` would grant both,
    https://cloud.google.com/vertex-ai/docs/general/access-control#aiplatform.user);
    ``roles/iam.serviceAccountUser`` on itself only, since creating a job that runs as a
    service account needs ``iam.serviceAccounts.actAs`` on that account
    (https://cloud.google.com/vertex-ai/docs/general/custom-service-account); object read
    on the curated bucket; object create and read on the model artifacts bucket (a
    :class:`~aiscaffold_components.gcp.SecureBucket`, versioned, ``protect`` with
    ``deletion_protection``). Its jobs must name the vertex key in ``encryptionSpec`` and
    the training subnet's network (:attr:`WorkloadSegments.training_subnet_id`).
``data-processing``
    a service account reading the raw data bucket (a ``SecureBucket``) and adding objects
    to the curated bucket; no Vertex AI permission at all.

Each non-inference segment gets its own subnet in the workload VPC (private Google
access and flow logs like the inference subnet). When more than one segment exists,
firewall rules by service account deny traffic between every pair of segments ahead of
the project's allow rules (priority :data:`SEGMENT_DENY_PRIORITY` < 1000); the only
flows a segment keeps are :data:`ALLOWED_FLOWS`. Data passes between segments through
the buckets (IAM decides), never over the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from ._common import account_id, child_opts, compact, labels_of, wait_for_dependencies
from .storage import SecureBucket, SecureBucketArgs

__all__ = [
    "ALLOWED_FLOWS",
    "SEGMENT_CIDRS",
    "SEGMENT_DENY_PRIORITY",
    "TRAINING_PERMISSIONS",
    "WorkloadSegments",
    "WorkloadSegmentsArgs",
]

Workload = Literal["inference", "training", "data-processing"]

#: Permissions of the training custom role: run and watch Vertex AI custom training and
#: tuning jobs (https://cloud.google.com/vertex-ai/docs/general/access-control, "Custom
#: training" and "Tuning jobs" permissions), nothing that serves or calls a model.
TRAINING_PERMISSIONS: tuple[str, ...] = (
    "aiplatform.customJobs.cancel",
    "aiplatform.customJobs.create",
    "aiplatform.customJobs.get",
    "aiplatform.customJobs.list",
    "aiplatform.tuningJobs.cancel",
    "aiplatform.tuningJobs.create",
    "aiplatform.tuningJobs.get",
    "aiplatform.tuningJobs.list",
)

#: Primary ranges of the added segments; inference keeps Network's 10.10.0.0/20 and the
#: proxy-only subnet takes 10.10.16.0/23, so none overlaps.
SEGMENT_CIDRS: dict[str, str] = {"training": "10.10.32.0/20", "data-processing": "10.10.48.0/20"}

#: Deny rules between segments win over every allow rule of the project (priority 1000).
SEGMENT_DENY_PRIORITY = 900

#: The flows a segment keeps, each with its reason. None crosses segments.
ALLOWED_FLOWS: dict[str, str] = {
    "google-apis": "every segment to the restricted Google API range (199.36.153.4/30) on "
    "tcp:443 (Network's allow-google-apis rule): Cloud Storage, Vertex AI, Cloud KMS and "
    "Cloud Logging calls, through Private Google Access",
    "psc-google-apis": "every segment to the Private Service Connect endpoint for Google "
    "APIs on tcp:443 (PrivateEndpoints): the same APIs through the project's endpoint",
}

_PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
_LOG_ALL = gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")


@dataclass(frozen=True)
class WorkloadSegmentsArgs:
    """Arguments of :class:`WorkloadSegments`."""

    project: pulumi.Input[str]
    """Project id."""

    region: pulumi.Input[str]
    """Region of the subnets and buckets."""

    network_id: pulumi.Input[str]
    """The workload VPC (``Network.network_id``)."""

    inference_email: pulumi.Input[str]
    """Email of the inference identity (``WorkloadIdentity.email``)."""

    inference_cidr: str
    """Primary range of the inference subnet (``Network.subnet_cidr``)."""

    curated_bucket: pulumi.Input[str]
    """Name of the curated data bucket (``VertexAI.datasets_bucket_name``)."""

    data_kms_key_name: pulumi.Input[str]
    """The data key (``Keys.key_ids["data"]``): raw and artifacts buckets."""

    workloads: Sequence[Workload] = ("inference",)
    """Workload types; inference is always there (the existing workload)."""

    deletion_protection: bool = True
    """Pulumi ``protect`` on the model artifacts bucket (GOV-07 asks for it on restricted
    data); false is a weakening."""

    flow_log_sampling: float = 1.0
    """Flow log sampling of the added subnets (as ``NetworkArgs``)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the buckets."""


class WorkloadSegments(pulumi.ComponentResource):
    """Identities, subnets, firewall separation and data zones of the chosen workloads."""

    emails: dict[str, pulumi.Output[str]]
    """Service account email per added workload type (training, data-processing)."""
    members: dict[str, pulumi.Output[str]]
    subnet_ids: dict[str, pulumi.Output[str]]
    """Subnet id per added workload type."""
    raw_bucket_name: pulumi.Output[str] | None
    artifacts_bucket_name: pulumi.Output[str] | None
    training_role: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: WorkloadSegmentsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:WorkloadSegments", name, None, opts)
        wait_for_dependencies(self, opts)
        unknown = sorted(set(args.workloads) - {"inference", *SEGMENT_CIDRS})
        if unknown:
            raise ValueError(f"unknown workload types: {', '.join(unknown)}")
        added = [w for w in SEGMENT_CIDRS if w in args.workloads]
        child = child_opts(self)
        labels = labels_of(args.labels)

        self.emails, self.members, self.subnet_ids = {}, {}, {}
        accounts: dict[str, gcp.serviceaccount.Account] = {}
        for workload in added:
            short = "dataproc" if workload == "data-processing" else workload
            account = gcp.serviceaccount.Account(
                f"{name}-{short}-sa",
                project=args.project,
                account_id=account_id(f"{short}-{name}"),
                display_name=f"{name} {workload} workload",
                description=f"Workload identity ({workload}) managed by aiscaffold; no keys",
                opts=child,
            )
            accounts[workload] = account
            self.emails[workload] = account.email
            self.members[workload] = account.member
            for role in _PROJECT_ROLES:
                gcp.projects.IAMMember(
                    f"{name}-{short}-{role.split('.')[-1].lower()}",
                    project=args.project,
                    role=role,
                    member=account.member,
                    opts=child,
                )
            subnet = gcp.compute.Subnetwork(
                f"{name}-{short}-subnet",
                project=args.project,
                network=args.network_id,
                region=args.region,
                ip_cidr_range=SEGMENT_CIDRS[workload],
                private_ip_google_access=True,
                stack_type="IPV4_ONLY",
                description=f"Workload segment: {workload}",
                log_config=gcp.compute.SubnetworkLogConfigArgs(
                    aggregation_interval="INTERVAL_5_SEC",
                    flow_sampling=args.flow_log_sampling,
                    metadata="INCLUDE_ALL_METADATA",
                ),
                opts=child,
            )
            self.subnet_ids[workload] = subnet.id

        self.training_role = None
        self.artifacts_bucket_name = None
        if "training" in accounts:
            self._training(name, args, accounts["training"], labels)
        self.raw_bucket_name = None
        if "data-processing" in accounts:
            member = accounts["data-processing"].member
            raw = SecureBucket(
                f"{name}-raw",
                SecureBucketArgs(
                    project=args.project,
                    location=args.region,
                    kms_key_name=args.data_kms_key_name,
                    object_viewers=[member],
                    labels={**labels, "data-zone": "raw"},
                ),
                opts=child,
            )
            self.raw_bucket_name = raw.bucket_name
            gcp.storage.BucketIAMMember(
                f"{name}-dataproc-curated-writer",
                bucket=args.curated_bucket,
                role="roles/storage.objectCreator",
                member=member,
                opts=child,
            )

        if added:
            self._separate(name, args, accounts)

        self.register_outputs(
            {
                "emails": self.emails,
                "subnet_ids": self.subnet_ids,
                "raw_bucket_name": self.raw_bucket_name,
                "artifacts_bucket_name": self.artifacts_bucket_name,
                "training_role": self.training_role,
            }
        )

    def _training(
        self,
        name: str,
        args: WorkloadSegmentsArgs,
        account: gcp.serviceaccount.Account,
        labels: dict[str, str],
    ) -> None:
        child = child_opts(self)
        role = gcp.projects.IAMCustomRole(
            f"{name}-training-role",
            project=args.project,
            role_id=compact(name, max_len=64, prefix="aiscaffold_trainer_"),
            title=f"{name} model trainer",
            description="Run Vertex AI custom training and tuning jobs; no prediction",
            permissions=list(TRAINING_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        gcp.projects.IAMMember(
            f"{name}-training-trainer",
            project=args.project,
            role=role.name,
            member=account.member,
            opts=child,
        )
        # actAs on itself only: a job the training identity creates runs as it.
        gcp.serviceaccount.IAMMember(
            f"{name}-training-act-as-self",
            service_account_id=account.name,
            role="roles/iam.serviceAccountUser",
            member=account.member,
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-training-curated-reader",
            bucket=args.curated_bucket,
            role="roles/storage.objectViewer",
            member=account.member,
            opts=child,
        )
        artifacts = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                project=args.project,
                location=args.region,
                kms_key_name=args.data_kms_key_name,
                versioning=True,
                object_viewers=[account.member],
                object_creators=[account.member],
                labels={**labels, "data-zone": "artifacts"},
            ),
            opts=child_opts(self, protect=args.deletion_protection),
        )
        self.artifacts_bucket_name = artifacts.bucket_name
        self.training_role = role.name

    def _separate(
        self,
        name: str,
        args: WorkloadSegmentsArgs,
        accounts: Mapping[str, gcp.serviceaccount.Account],
    ) -> None:
        """Deny rules, by service account, between every pair of segments."""
        emails: dict[str, pulumi.Input[str]] = {"inference": args.inference_email}
        cidrs = {"inference": args.inference_cidr}
        for workload, account in accounts.items():
            emails[workload] = account.email
            cidrs[workload] = SEGMENT_CIDRS[workload]
        for workload, email in emails.items():
            others = [w for w in emails if w != workload]
            short = "dataproc" if workload == "data-processing" else workload
            gcp.compute.Firewall(
                f"{name}-{short}-deny-from-segments",
                project=args.project,
                network=args.network_id,
                direction="INGRESS",
                priority=SEGMENT_DENY_PRIORITY,
                description=f"NET-07: no traffic from other workload segments to {workload}",
                target_service_accounts=[email],
                source_service_accounts=[emails[w] for w in others],
                denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
                log_config=_LOG_ALL,
                opts=child_opts(self),
            )
            gcp.compute.Firewall(
                f"{name}-{short}-deny-to-segments",
                project=args.project,
                network=args.network_id,
                direction="EGRESS",
                priority=SEGMENT_DENY_PRIORITY,
                description=f"NET-07: no traffic from {workload} to other workload segments",
                target_service_accounts=[email],
                destination_ranges=[cidrs[w] for w in others],
                denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
                log_config=_LOG_ALL,
                opts=child_opts(self),
            )
