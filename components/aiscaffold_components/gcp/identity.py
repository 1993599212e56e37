"""Least-privilege workload identity: a dedicated service account, no keys.

The workload acts as its own service account. Resource-level grants (bucket objects,
secret access, endpoint predict) are made by the components that own those
resources, for the member this component exposes. Here live only the grants Google
Cloud offers no narrower scope for, each bound at project level:

``projects/<p>/roles/<invoker>`` (a custom role created here)
    ``aiplatform.endpoints.predict``: calling Gemini and the other publisher models.
    Publisher models live outside the project and carry no IAM policy of their own,
    so the only place to grant predict on them is the calling project.
    ``modelarmor.templates.useToSanitizeUserPrompt`` and
    ``useToSanitizeModelResponse``: screening text with the project's Model Armor
    template; templates have no IAM policy of their own either.
``roles/logging.logWriter``
    writing the workload's log entries; log entries are written to the project.
``roles/monitoring.metricWriter``
    writing the workload's metrics; metrics are written to the project.

No basic role (owner, editor, viewer) is ever bound, no key is created for the
account (the project's org policy forbids creating one, see OrgPolicies) and no
principal is granted impersonation of it (IAM-04).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ._common import account_id, child_opts, compact, reject_basic_roles, wait_for_dependencies

__all__ = ["INVOKER_PERMISSIONS", "WorkloadIdentity", "WorkloadIdentityArgs"]

#: Permissions of the custom invoker role.
INVOKER_PERMISSIONS: tuple[str, ...] = (
    "aiplatform.endpoints.predict",
    "modelarmor.templates.useToSanitizeUserPrompt",
    "modelarmor.templates.useToSanitizeModelResponse",
)

#: Predefined roles bound at project level by default, with no narrower scope.
_PROJECT_ROLES: tuple[str, ...] = ("roles/logging.logWriter", "roles/monitoring.metricWriter")


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    """Arguments of :class:`WorkloadIdentity`."""

    project: pulumi.Input[str]
    """Project id."""

    account_id: str | None = None
    """Service account id (6-30 characters); derived from the component name if unset."""

    publisher_model_access: bool = True
    """Bind the invoker role at project level, so the workload can call publisher
    models (Gemini...). Without it the workload may only call endpoints it is granted
    on (``VertexAI`` grants its endpoint)."""

    telemetry_roles: bool = True
    """Bind logging.logWriter and monitoring.metricWriter at project level."""

    extra_project_roles: Sequence[str] = ()
    """Weakening (IAM-02): further predefined roles bound at project level. Basic roles
    (owner, editor, viewer) are refused."""


class WorkloadIdentity(pulumi.ComponentResource):
    """The workload's service account and its project-level grants."""

    email: pulumi.Output[str]
    """Email of the service account."""
    member: pulumi.Output[str]
    """IAM member (``serviceAccount:<email>``) for resource-level grants."""
    invoker_role: pulumi.Output[str]
    """Name of the custom invoker role (``projects/<p>/roles/<id>``), for grants on
    endpoints."""
    account: gcp.serviceaccount.Account

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:WorkloadIdentity", name, None, opts)
        wait_for_dependencies(self, opts)
        reject_basic_roles(args.extra_project_roles, "extra_project_roles")
        child = child_opts(self)

        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=args.project,
            account_id=args.account_id or account_id(name),
            display_name=f"{name} workload",
            description="Workload identity managed by aiscaffold; no keys, no impersonation",
            opts=child,
        )
        role = gcp.projects.IAMCustomRole(
            f"{name}-invoker-role",
            project=args.project,
            role_id=compact(name, max_len=64, prefix="aiscaffold_invoker_"),
            title=f"{name} model invoker",
            description="Call Vertex AI models and screen text with Model Armor",
            permissions=list(INVOKER_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        bindings: list[tuple[str, pulumi.Input[str]]] = []
        if args.publisher_model_access:
            bindings.append(("invoker", role.name))
        if args.telemetry_roles:
            bindings.extend((r.split(".")[-1].lower(), r) for r in _PROJECT_ROLES)
        bindings.extend(
            (r.split("/")[-1].replace(".", "-").lower(), r) for r in args.extra_project_roles
        )
        for suffix, bound_role in bindings:
            gcp.projects.IAMMember(
                f"{name}-{suffix}",
                project=args.project,
                role=bound_role,
                member=self.account.member,
                opts=child,
            )

        self.email = self.account.email
        self.member = self.account.member
        self.invoker_role = role.name
        self.register_outputs(
            {"email": self.email, "member": self.member, "invoker_role": self.invoker_role}
        )
