"""The AI service: an Azure AI Services account serving Azure OpenAI models privately.

Kind: ``AIServices``, not the older ``OpenAI``. Microsoft now directs new Azure OpenAI
workloads to the Foundry resource (kind ``AIServices``): it serves the same Azure
OpenAI models, deployments, endpoints (``<subdomain>.openai.azure.com``) and RAI
policies, adds the Foundry model catalog and agent features, and is the type Azure is
upgrading ``OpenAI`` accounts to. Project management (Foundry projects) stays off:
the workload needs model deployments only.

Secure defaults:

* a custom subdomain (required for Entra ID tokens and private endpoints); public
  network access disabled, network ACL default Deny without bypass (PE-03); reached
  through a private endpoint (:class:`~aiscaffold_components.azure.PrivateEndpoints`);
* local (API key) authentication disabled: Entra ID tokens only (IAM-03);
* outbound network access restricted to ``allowed_fqdns``, empty by default (PE-04,
  NET-06);
* encrypted with a customer-managed key from Key Vault through a user-assigned
  identity (KEY-01); the key version is left open so rotation is followed;
* a :class:`~aiscaffold_components.azure.Guardrail` (RAI policy) created first, then
  one deployment per model, each bound to the policy by ``raiPolicyName`` (AI-05).
  Deployments are created one after another: Azure refuses concurrent changes to the
  deployments of one account.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pulumi
import pulumi_azure_native as azure_native

from ._common import (
    CustomerManagedKey,
    DiagnosticTarget,
    PrivateLinkTarget,
    child_opts,
    cloud_suffixes,
    tags_of,
    unique_name,
)
from .guardrail import Guardrail, GuardrailArgs

__all__ = ["ModelDeployment", "OpenAIAccount", "OpenAIAccountArgs"]

_OPENAI_ENDPOINT = "OpenAI Language Model Instance API"


@dataclass(frozen=True)
class ModelDeployment:
    """One model deployment of the account."""

    model: str
    """Model name, e.g. ``gpt-4o``."""
    version: str
    """Model version, e.g. ``2024-11-20``."""
    capacity: int = 10
    """Capacity in thousands of tokens per minute (Standard SKUs)."""
    sku: str = "Standard"
    """``Standard`` processes data in the account's region. ``DataZoneStandard``
    (within the EU or US data zone) and ``GlobalStandard`` (any region) have more
    quota but move processing out of the region."""
    name: str | None = None
    """Deployment name the application calls; default the model name."""

    @classmethod
    def parse(cls, model_id: str, *, capacity: int = 10, sku: str = "Standard") -> ModelDeployment:
        """A deployment from a ``name:version`` model id (the project's answer)."""
        model, sep, version = model_id.partition(":")
        if not sep or not model or not version:
            raise ValueError(f"model id {model_id!r} is not 'name:version'")
        return cls(model=model, version=version, capacity=capacity, sku=sku)

    @classmethod
    def from_models(
        cls,
        model_ids: Sequence[str],
        *,
        capacity: int | str | Mapping[str, int | str] = 10,
        sku: str = "Standard",
    ) -> list[ModelDeployment]:
        """One deployment per ``name:version`` model id (the project's ``models``).

        ``capacity`` (thousands of tokens per minute) is one number for every model, or a
        number per model name (stack config gives numbers or their text); models a map
        does not name keep 10. A name that is none of the models is refused, so a typo
        does not silently leave the default.
        """
        names = [cls.parse(model_id).model for model_id in model_ids]
        if isinstance(capacity, Mapping):
            unknown = sorted(set(capacity) - set(names))
            if unknown:
                raise ValueError(
                    f"capacity given for {', '.join(unknown)}, not among the models "
                    f"({', '.join(names)})"
                )
        deployments = []
        for model_id, name in zip(model_ids, names, strict=True):
            value = capacity.get(name, 10) if isinstance(capacity, Mapping) else capacity
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"capacity of {name} must be a whole number of 1 or more")
            deployments.append(cls.parse(model_id, capacity=value, sku=sku))
        return deployments

    @property
    def deployment_name(self) -> str:
        name = self.name or self.model
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}", name):
            raise ValueError(f"deployment name {name!r} is not valid (2-64 letters, digits, _.-)")
        return name


@dataclass(frozen=True)
class OpenAIAccountArgs:
    """Arguments of :class:`OpenAIAccount`."""

    resource_group_name: pulumi.Input[str]
    location: str
    """Azure region (a plain string: it selects the private DNS zones' cloud)."""
    cmk: CustomerManagedKey
    """Key the account encrypts with (``keys.cmk("ai")``, RSA 2048)."""
    guardrail: GuardrailArgs
    """Content filter every deployment is bound to."""
    deployments: Sequence[ModelDeployment] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    allowed_fqdns: Sequence[str] = ()
    """Weakening: destinations the account may call out to (for example a search
    service used with "on your data"); none by default."""
    trusted_services_bypass: bool = False
    """Weakening: trusted Azure services (such as Azure AI Search) pass the account's
    network ACL."""
    account_name: str | None = None
    """Name of the account; default derived from the project, stack and component."""
    custom_subdomain: str | None = None
    """Globally unique subdomain; default the account name."""


class OpenAIAccount(pulumi.ComponentResource):
    """A private, keyless, CMK-encrypted AI Services account with guarded deployments."""

    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    endpoint_host: pulumi.Output[str]
    deployment_names: list[str]
    guardrail: Guardrail
    diagnostic_targets: list[DiagnosticTarget]
    private_link: PrivateLinkTarget

    def __init__(
        self, name: str, args: OpenAIAccountArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:OpenAIAccount", name, None, opts)
        tags = tags_of(args.tags)
        names = [d.deployment_name for d in args.deployments]
        if len(set(names)) != len(names):
            raise ValueError(f"deployment names must be unique: {names}")
        account_name = args.account_name or unique_name("subdomain", name)
        account = azure_native.cognitiveservices.Account(
            f"{name}-account",
            resource_group_name=args.resource_group_name,
            account_name=account_name,
            location=args.location,
            kind="AIServices",
            sku=azure_native.cognitiveservices.SkuArgs(name="S0"),
            identity=azure_native.cognitiveservices.IdentityArgs(
                type=azure_native.cognitiveservices.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.cmk.identity_id],
            ),
            properties=azure_native.cognitiveservices.AccountPropertiesArgs(
                custom_sub_domain_name=args.custom_subdomain or account_name,
                public_network_access="Disabled",
                network_acls=azure_native.cognitiveservices.NetworkRuleSetArgs(
                    default_action="Deny",
                    bypass="AzureServices" if args.trusted_services_bypass else "None",
                    ip_rules=[],
                    virtual_network_rules=[],
                ),
                disable_local_auth=True,
                restrict_outbound_network_access=True,
                allowed_fqdn_list=list(args.allowed_fqdns),
                encryption=azure_native.cognitiveservices.EncryptionArgs(
                    key_source="Microsoft.KeyVault",
                    key_vault_properties=azure_native.cognitiveservices.KeyVaultPropertiesArgs(
                        key_name=args.cmk.key_name,
                        key_vault_uri=args.cmk.vault_uri,
                        identity_client_id=args.cmk.identity_client_id,
                    ),
                ),
            ),
            tags=tags,
            opts=child_opts(self, depends_on=args.cmk.grants),
        )
        self.guardrail = Guardrail(
            f"{name}-guardrail",
            dataclasses.replace(
                args.guardrail,
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                tags=args.guardrail.tags or tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        previous: list[pulumi.Resource] = [self.guardrail]
        for deployment in args.deployments:
            created = azure_native.cognitiveservices.Deployment(
                f"{name}-{deployment.deployment_name}",
                resource_group_name=args.resource_group_name,
                account_name=account.name,
                deployment_name=deployment.deployment_name,
                sku=azure_native.cognitiveservices.SkuArgs(
                    name=deployment.sku, capacity=deployment.capacity
                ),
                properties=azure_native.cognitiveservices.DeploymentPropertiesArgs(
                    model=azure_native.cognitiveservices.DeploymentModelArgs(
                        format="OpenAI", name=deployment.model, version=deployment.version
                    ),
                    rai_policy_name=self.guardrail.policy_name,
                    # Pinned version, moved on only when Azure retires it.
                    version_upgrade_option="OnceCurrentVersionExpired",
                ),
                tags=tags,
                opts=child_opts(self, depends_on=previous),
            )
            previous = [created]

        self.account_id = account.id
        self.account_name = account.name
        # An AIServices account lists its OpenAI endpoint besides its generic one.
        self.endpoint = account.properties.apply(
            lambda p: (p.endpoints or {}).get(_OPENAI_ENDPOINT) or p.endpoint or ""
        )
        self.endpoint_host = self.endpoint.apply(lambda url: urlparse(url).hostname or "")
        self.deployment_names = names
        self.diagnostic_targets = [DiagnosticTarget("openai", account.id)]
        suffixes = cloud_suffixes(args.location)
        zones = (suffixes.cognitive_services, suffixes.openai, suffixes.ai_services)
        self.private_link = PrivateLinkTarget(
            "openai", account.id, "account", tuple(z for z in zones if z)
        )
        self.register_outputs(
            {
                "account_id": self.account_id,
                "endpoint": self.endpoint,
                "deployment_names": self.deployment_names,
                "policy_name": self.guardrail.policy_name,
            }
        )
