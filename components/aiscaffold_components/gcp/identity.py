"""Least-privilege workload identity: a dedicated service account, no keys.

The workload acts as its own service account. Resource-level grants are made by the
components that own the resources, for the member this component exposes: object
read and create on the datasets bucket, secret access per secret, and the invoker role
on the Vertex AI endpoint (``VertexAI``). Here live only the grants Google Cloud offers
no narrower scope for, each bound at project level, each for a reason:

``projects/<p>/roles/<invoker>`` (a custom role created here, only with ``publisher_model_access``)
    ``aiplatform.endpoints.predict``, to call Gemini and the other publisher models.
    Their calls name ``projects/<p>/locations/<r>/publishers/google/models/<m>``:
    publisher models live outside the project, carry no IAM policy of their own, and
    Vertex AI does not support the resource attributes of IAM Conditions (a
    ``resource.name`` condition cannot single them out), so the calling project is the
    only place to grant predict on them. Such a grant also covers every endpoint of the
    project: the endpoint-level grant is what lets the workload call its own endpoint
    when publisher models are turned off. The same role is what ``VertexAI`` grants on
    the endpoint.
``projects/<p>/roles/<screener>`` (a custom role created here)
    ``modelarmor.templates.useToSanitizeUserPrompt`` and
    ``useToSanitizeModelResponse``, to screen text with the project's Model Armor
    template from the application; templates have no IAM policy of their own. No
    predict permission: screening does not call a model.
``roles/logging.logWriter``
    writing the workload's log entries; log entries are written to the project.
``roles/monitoring.metricWriter``
    writing the workload's metrics; metrics are written to the project.
``roles/modelarmor.user`` for the Vertex AI service agent (granted by ``Guardrail``)
    the floor setting's Vertex AI integration has the agent screen every
    ``generateContent`` call with the project's floor setting and templates; it is the
    integration's documented requirement, and floor settings exist only per project.

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

__all__ = [
    "INVOKER_PERMISSIONS",
    "SCREENER_PERMISSIONS",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
]

#: Permissions of the custom invoker role: calling models, nothing else.
INVOKER_PERMISSIONS: tuple[str, ...] = ("aiplatform.endpoints.predict",)

#: Permissions of the custom screener role: screening text with Model Armor templates.
SCREENER_PERMISSIONS: tuple[str, ...] = (
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
    """Bind the invoker role (predict) at project level, so the workload can call
    publisher models (Gemini...), which offer no narrower scope; the grant then covers
    every endpoint of the project too. Without it the workload may only call the
    endpoints it is granted on (``VertexAI`` grants its endpoint)."""

    model_armor_access: bool = True
    """Bind the screener role at project level, so the application can screen prompts
    and responses with the Model Armor template itself (the floor setting screens
    Vertex AI's Gemini calls without it)."""

    telemetry_roles: bool = True
    """Bind logging.logWriter and monitoring.metricWriter at project level; without
    them the workload's own logs and metrics are lost (LOG-01)."""

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
    """Name of the custom invoker role (``projects/<p>/roles/<id>``, predict only), for
    grants on endpoints."""
    screener_role: pulumi.Output[str]
    """Name of the custom screener role (Model Armor sanitize permissions)."""
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
            description="Call Vertex AI models (publisher models, granted endpoints)",
            permissions=list(INVOKER_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        screener = gcp.projects.IAMCustomRole(
            f"{name}-screener-role",
            project=args.project,
            role_id=compact(name, max_len=64, prefix="aiscaffold_screener_"),
            title=f"{name} Model Armor screener",
            description="Screen prompts and responses with the project's Model Armor templates",
            permissions=list(SCREENER_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        bindings: list[tuple[str, pulumi.Input[str]]] = []
        if args.publisher_model_access:
            bindings.append(("invoker", role.name))
        if args.model_armor_access:
            bindings.append(("screener", screener.name))
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
        self.screener_role = screener.name
        self.register_outputs(
            {
                "email": self.email,
                "member": self.member,
                "invoker_role": self.invoker_role,
                "screener_role": self.screener_role,
            }
        )
