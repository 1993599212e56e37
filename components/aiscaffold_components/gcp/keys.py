"""Customer-managed encryption keys: a Cloud KMS key ring and one key per purpose.

Each key rotates at ``rotation_days``, lives in an HSM unless the caller asks for
software protection, schedules destruction of its versions ``destroy_scheduled_days``
after a delete and is guarded by Pulumi's ``protect`` option (KEY-03, GOV-05).

Key use (``roles/cloudkms.cryptoKeyEncrypterDecrypter``) is granted on each key to
exactly the Google service agents that encrypt with it, nobody else (KEY-04):

==========  ==================================================================
key         service agents
==========  ==================================================================
data        Cloud Storage (the datasets bucket)
logs        Cloud Logging (the log bucket), Cloud Storage (the log archive)
secrets     Secret Manager (secret replicas), Pub/Sub (the rotation topic)
vertex      Vertex AI (endpoint and its resources); with
            ``compute_disk_encryption`` also Compute Engine and Notebooks, for the
            Workbench instance's CMEK disks
==========  ==================================================================

Agents that exist only once asked for (Vertex AI, Secret Manager, Pub/Sub,
Notebooks) are created with ``projects.ServiceIdentity``; Cloud Storage's and Cloud
Logging's are read from their APIs; Compute Engine's follows from the project number.

A grant takes minutes to reach the services that check it ("typically within 2
minutes, in some cases 7 minutes or more",
https://cloud.google.com/iam/docs/access-change-propagation): a bucket or secret
created with the key right after its grant is refused (``Permission denied on Cloud KMS
key``). So each key's grants are followed by a ``pulumiverse_time.Sleep`` of
``grant_propagation_seconds``, and the exported key id resolves only after it: whatever
encrypts with the key waits for the grant to propagate (GCP-DEPLOY-003 checks it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from ._common import child_opts, duration, labels_of, wait_for_dependencies

__all__ = ["KEY_PURPOSES", "Keys", "KeysArgs"]

Purpose = Literal["data", "logs", "secrets", "vertex"]
KEY_PURPOSES: tuple[Purpose, ...] = ("data", "logs", "secrets", "vertex")

#: Service agents that encrypt with each key (see the module docstring).
_AGENTS_BY_PURPOSE: dict[Purpose, tuple[str, ...]] = {
    "data": ("storage",),
    "logs": ("logging", "storage"),
    "secrets": ("secretmanager", "pubsub"),
    "vertex": ("aiplatform",),
}
_DISK_AGENTS = ("compute", "notebooks")
_IDENTITY_SERVICES = {
    "aiplatform": "aiplatform.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "notebooks": "notebooks.googleapis.com",
}


@dataclass(frozen=True)
class KeysArgs:
    """Arguments of :class:`Keys`."""

    location: pulumi.Input[str]
    """Region of the key ring; CMEK keys must share the region of what they encrypt."""

    project: pulumi.Input[str]
    """Project id."""

    project_number: pulumi.Input[str]
    """Project number (names the Compute Engine service agent)."""

    rotation_days: int = 90
    """Automatic rotation period of every key, in days (KEY-02)."""

    protection_level: Literal["HSM", "SOFTWARE"] = "HSM"
    """``SOFTWARE`` is a weakening: key material outside a hardware security module
    (KEY-05 asks for HSM keys on restricted data)."""

    destroy_scheduled_days: int = 30
    """Days a destroyed key version stays recoverable (1-120)."""

    purposes: Sequence[Purpose] = KEY_PURPOSES
    """Keys to create, one per purpose."""

    compute_disk_encryption: bool = False
    """Also let the Compute Engine and Notebooks service agents use the vertex key
    (needed for CMEK disks of a Vertex AI Workbench instance)."""

    protect: bool = True
    """Weakening when false: Pulumi may delete the keys (and their data with them)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the keys (key rings take none)."""

    grant_propagation_seconds: int = 120
    """How long users of a key wait after its grants (Google: usually within 2 minutes,
    sometimes 7 or more); 0 is a weakening: the first ``pulumi up`` may be refused."""


class Keys(pulumi.ComponentResource):
    """A key ring and one rotating, protected key per purpose."""

    key_ring_id: pulumi.Output[str]
    key_ids: dict[str, pulumi.Output[str]]
    """Key id (``projects/../cryptoKeys/<k>``) per purpose; depends on the key's grants
    to its service agents."""
    service_agents: dict[str, pulumi.Output[str]]
    """IAM member (``serviceAccount:...``) of each service agent the keys serve, by
    service: storage, logging, secretmanager, pubsub, aiplatform (compute, notebooks)."""

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:Keys", name, None, opts)
        wait_for_dependencies(self, opts)
        if not 1 <= args.destroy_scheduled_days <= 120:
            raise ValueError("destroy_scheduled_days must be between 1 and 120")
        if args.grant_propagation_seconds < 0:
            raise ValueError("grant_propagation_seconds may not be negative")
        labels = labels_of(args.labels)
        child = child_opts(self)

        needed = {agent for p in args.purposes for agent in _AGENTS_BY_PURPOSE[p]}
        if args.compute_disk_encryption:
            needed.update(_DISK_AGENTS)
        self.service_agents = self._service_agents(name, args, needed)

        ring = gcp.kms.KeyRing(
            f"{name}-ring",
            project=args.project,
            location=args.location,
            # Key rings cannot be deleted in Cloud KMS; deleting one only forgets it.
            opts=child_opts(self, protect=args.protect),
        )
        self.key_ids = {}
        for purpose in args.purposes:
            key = gcp.kms.CryptoKey(
                f"{name}-{purpose}",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=duration(args.rotation_days),
                destroy_scheduled_duration=duration(args.destroy_scheduled_days),
                version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                    algorithm="GOOGLE_SYMMETRIC_ENCRYPTION",
                    protection_level=args.protection_level,
                ),
                labels={**labels, "key-purpose": purpose},
                opts=child_opts(self, protect=args.protect),
            )
            agents = list(_AGENTS_BY_PURPOSE[purpose])
            if purpose == "vertex" and args.compute_disk_encryption:
                agents.extend(_DISK_AGENTS)
            grants = [
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-{purpose}-{agent}",
                    crypto_key_id=key.id,
                    role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                    member=self.service_agents[agent],
                    opts=child,
                )
                for agent in agents
            ]
            # A grant exists at once but takes effect minutes later: wait for it, and
            # resolve the exported key id only then, so whatever encrypts with the key
            # is created once its service agent may use it. The sleep is replaced (and
            # waits again) when the set of grantees changes.
            waits: list[pulumi.CustomResource] = list(grants)
            if args.grant_propagation_seconds:
                waits.append(
                    pulumiverse_time.Sleep(
                        f"{name}-{purpose}-grants-propagation",
                        create_duration=f"{args.grant_propagation_seconds}s",
                        triggers={g_agent: self.service_agents[g_agent] for g_agent in agents},
                        opts=child_opts(self, depends_on=grants),
                    )
                )
            self.key_ids[purpose] = pulumi.Output.all(key.id, *(w.id for w in waits)).apply(
                lambda ids: str(ids[0])
            )

        self.key_ring_id = ring.id
        self.register_outputs(
            {
                "key_ring_id": self.key_ring_id,
                "key_ids": self.key_ids,
                "service_agents": self.service_agents,
            }
        )

    def _service_agents(
        self, name: str, args: KeysArgs, needed: set[str]
    ) -> dict[str, pulumi.Output[str]]:
        child = child_opts(self)
        invoke = pulumi.InvokeOptions(parent=self)
        agents: dict[str, pulumi.Output[str]] = {}
        for agent, service in _IDENTITY_SERVICES.items():
            if agent in needed:
                identity = gcp.projects.ServiceIdentity(
                    f"{name}-{agent}-agent", project=args.project, service=service, opts=child
                )
                agents[agent] = identity.member
        if "storage" in needed:
            gcs = gcp.storage.get_project_service_account_output(project=args.project, opts=invoke)
            agents["storage"] = gcs.member
        if "logging" in needed:
            settings = gcp.logging.get_project_cmek_settings_output(
                project=args.project, opts=invoke
            )
            agents["logging"] = settings.service_account_id.apply(
                lambda email: f"serviceAccount:{email}"
            )
        if "compute" in needed:
            agents["compute"] = pulumi.Output.concat(
                "serviceAccount:service-",
                args.project_number,
                "@compute-system.iam.gserviceaccount.com",
            )
        return agents
