"""Secrets: application settings kept as Key Vault secrets.

Values come from Pulumi config secrets (``config.require_secret``), never literals: a
plain ``str`` value is refused, and every value is stored as a Pulumi secret (SEC-01).
Each secret has a content type and expires ``expiry_days`` after the date its value
was set (``rotated_on``), so the expiry moves only when the value does (SEC-03);
Key Vault raises near-expiry events through Event Grid.

The secrets live in the project's vault (:class:`~aiscaffold_components.azure.Keys`):
RBAC-only, private, purge-protected. Only the workload identity is granted Key Vault
Secrets User on it (:class:`~aiscaffold_components.azure.WorkloadIdentity`, SEC-02);
the deployment writes them through Azure Resource Manager, which needs no data-plane
role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import child_opts, tags_of

__all__ = ["AppSecret", "Secrets", "SecretsArgs"]

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


@dataclass(frozen=True)
class AppSecret:
    """One application secret."""

    value: pulumi.Output[str]
    """The value, from ``pulumi.Config().require_secret(...)``."""
    rotated_on: dt.date
    """When the value was last set; it expires ``expiry_days`` later."""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class SecretsArgs:
    """Arguments of :class:`Secrets`."""

    resource_group_name: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    secrets: Mapping[str, AppSecret] = field(default_factory=dict)
    """Secrets by Key Vault name (letters, digits, hyphens)."""
    expiry_days: int = 90
    """Days after ``rotated_on`` at which each secret expires (SEC-03)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Secrets(pulumi.ComponentResource):
    """Key Vault secrets with content types and expiry, values from config secrets."""

    secret_uris: dict[str, pulumi.Output[str]]
    """Versionless URI of each secret, for the application's configuration."""

    def __init__(
        self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:Secrets", name, None, opts)
        if args.expiry_days < 1:
            raise ValueError("expiry_days must be at least 1")
        tags = tags_of(args.tags)
        self.secret_uris = {}
        for secret_name, secret in args.secrets.items():
            if not _NAME.match(secret_name):
                raise ValueError(
                    f"secret name {secret_name!r} is not valid in Key Vault "
                    "(1-127 letters, digits and hyphens)"
                )
            if not isinstance(secret.value, pulumi.Output):
                raise TypeError(
                    f"secret {secret_name!r} must come from a Pulumi config secret "
                    "(config.require_secret), not a literal value"
                )
            expires = secret.rotated_on + dt.timedelta(days=args.expiry_days)
            created = azure_native.keyvault.Secret(
                f"{name}-{secret_name}",
                resource_group_name=args.resource_group_name,
                vault_name=args.vault_name,
                secret_name=secret_name,
                properties=azure_native.keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(secret.value),
                    content_type=secret.content_type,
                    attributes=azure_native.keyvault.SecretAttributesArgs(
                        enabled=True,
                        not_before=_epoch(secret.rotated_on),
                        expires=_epoch(expires),
                    ),
                ),
                tags=tags,
                opts=child_opts(self),
            )
            self.secret_uris[secret_name] = created.properties.apply(lambda p: p.secret_uri or "")
        self.register_outputs({"secret_uris": self.secret_uris})


def _epoch(day: dt.date) -> int:
    """Seconds since 1970 at midnight UTC of ``day`` (Key Vault's date format)."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())
