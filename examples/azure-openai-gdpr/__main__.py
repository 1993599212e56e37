"""azure-openai-gdpr: Customer support copilot on Azure OpenAI

Composes aiscaffold's hardened Azure components from the stack's profile
(Pulumi.dev.yaml). Each setting the profile decides is passed visibly below:
tighten it here or in the stack config. Run `aiscaffold check` to verify it offline.
"""

import dataclasses
import datetime as dt

import pulumi
from aiscaffold_components.azure import (
    AlertChannel,
    AlertChannelArgs,
    ApiGateway,
    ApiGatewayArgs,
    AppSecret,
    AuditLogging,
    AuditLoggingArgs,
    CostGuardrails,
    CostGuardrailsArgs,
    FlowLogArgs,
    GuardrailArgs,
    Keys,
    KeysArgs,
    ModelDeployment,
    Network,
    NetworkArgs,
    OpenAIAccount,
    OpenAIAccountArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    ReplicatedStorage,
    ReplicatedStorageArgs,
    Secrets,
    SecretsArgs,
    SecureStorage,
    SecureStorageArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from aiscaffold_components.profile import Profile

config = pulumi.Config()
profile = Profile.from_config(config)
location = profile.region
tags = profile.tags

# Resource group, VNet, subnets whose security groups deny the internet.
network = Network(
    "network",
    NetworkArgs(
        location=location,
        tags=tags,
        allowed_locations=profile.allowed_regions,
        lock_resource_group=profile.deletion_protection,
        allow_internet_egress=profile.allow_internet_egress,
        # NET-07: a subnet and security group per workload type beyond inference, which
        # keeps the workload subnet. Each segment sends HTTPS to the private endpoints
        # and nothing else; nothing may reach into it (README.md, "Workload segments").
        workload_segments=[w for w in profile.workloads if w != "inference"],
    ),
)
group = network.resource_group_name

# Key Vault (private, RBAC only, purge protection) with one rotating key per purpose.
# Each key's first version is valid from keys_created_on and expires key_rotation_days
# + 30 days later, like every version its rotation policy creates. Azure sets these
# attributes only when it creates a key, so the program never changes them afterwards;
# pin the day of the first deployment to keep previews of a new stack reproducible:
#   pulumi config set keys_created_on "$(date -u +%F)"
# Azure Resource Manager creates keys in an RBAC vault only for a caller holding Key
# Vault data roles, so the identity running `pulumi up` gets Key Vault Crypto Officer on
# this vault (the keys wait for it to propagate). A CI service principal deploying says
# so, and naming it keeps the grant on it whoever runs the next update:
#   pulumi config set deployer_principal_type ServicePrincipal
#   pulumi config set deployer_object_id <object id of the CI identity>
keys_created_on = config.get("keys_created_on")
keys = Keys(
    "keys",
    KeysArgs(
        resource_group_name=group,
        location=location,
        created_on=(
            dt.date.fromisoformat(keys_created_on)
            if keys_created_on
            else dt.datetime.now(dt.UTC).date()
        ),
        tags=tags,
        rotation_days=profile.key_rotation_days,
        hsm_keys=profile.hsm_keys,
        # Storage and the AI account reach their customer-managed keys through the
        # vault's firewall as trusted Azure services.
        trusted_services_bypass=True,
        deployer_principal_id=config.get("deployer_object_id"),
        deployer_principal_type=config.get("deployer_principal_type") or "User",
    ),
)

# The workload's data: private, Entra ID only, encrypted with the data key.
data = SecureStorage(
    "data",
    SecureStorageArgs(
        resource_group_name=group,
        location=location,
        cmk=keys.cmk("data"),
        tags=tags,
        containers=("data",),
    ),
)

# Data zones (GOV-07): the data account above is the curated zone. Raw data, with a
# data-processing workload, and model artifacts (training files, fine-tuning results,
# exported checkpoints), with a training workload, get their own accounts, hardened the
# same way. Artifacts keep every version, and deleted ones stay recoverable for a year
# when the profile asks for deletion protection.
raw_data = None
if "data-processing" in profile.workloads:
    raw_data = SecureStorage(
        "raw",
        SecureStorageArgs(
            resource_group_name=group,
            location=location,
            cmk=keys.cmk("data"),
            tags={**tags, "data-zone": "raw"},
            containers=("raw",),
        ),
    )
artifacts = None
if "training" in profile.workloads:
    artifacts = SecureStorage(
        "artifacts",
        SecureStorageArgs(
            resource_group_name=group,
            location=location,
            cmk=keys.cmk("data"),
            tags={**tags, "data-zone": "model-artifacts"},
            containers=("artifacts",),
            soft_delete_days=365 if profile.deletion_protection else 30,
        ),
    )

# The AI service: private, keyless, CMK-encrypted; every model deployment is bound to
# the content filter. Capacity is in thousands of tokens per minute, per deployment:
# 10 unless `model_capacity` gives one number for every model or one per model name:
#   pulumi config set model_capacity 50
#   pulumi config set --path 'model_capacity["gpt-4o"]' 50
openai = OpenAIAccount(
    "openai",
    OpenAIAccountArgs(
        resource_group_name=group,
        location=location,
        cmk=keys.cmk("ai"),
        tags=tags,
        deployments=ModelDeployment.from_models(
            profile.models, capacity=config.get_object("model_capacity", 10)
        ),
        guardrail=GuardrailArgs(
            strength=profile.content_filter_strength,
            denied_terms=profile.guardrail_denied_topics,
            pii_entities=profile.pii_entities,
            tags=tags,
        ),
    ),
)

# The identity the application runs as: roles on these resources only.
workload = WorkloadIdentity(
    "workload",
    WorkloadIdentityArgs(
        resource_group_name=group,
        location=location,
        tags=tags,
        openai_account_id=openai.account_id,
        key_vault_id=keys.vault_id,
        data_container_ids=list(data.container_ids.values()),
    ),
)

# One identity per further workload type (IAM-05), each with its job only. Training
# reads curated data, writes model artifacts and runs Azure OpenAI fine-tuning (a custom
# role without chat, completions or embeddings: it cannot call the production model).
# Data processing reads raw data and writes curated data. Neither reads secrets.
workload_identities = {"inference": workload}
if artifacts is not None:
    workload_identities["training"] = WorkloadIdentity(
        "training",
        WorkloadIdentityArgs(
            resource_group_name=group,
            location=location,
            tags=tags,
            openai_account_id=openai.account_id,
            openai_access="fine-tuning",
            data_container_ids=list(data.container_ids.values()),
            write_container_ids=list(artifacts.container_ids.values()),
        ),
    )
if raw_data is not None:
    workload_identities["data-processing"] = WorkloadIdentity(
        "data-processing",
        WorkloadIdentityArgs(
            resource_group_name=group,
            location=location,
            tags=tags,
            data_container_ids=list(raw_data.container_ids.values()),
            write_container_ids=list(data.container_ids.values()),
        ),
    )

# Recovery (REC-01), per stack: with `dr_region` set, the curated data and the model
# artifacts replicate (object replication, asynchronous) to accounts in that region,
# encrypted with a key from a Key Vault there (docs/disaster-recovery.md):
#   pulumi config set dr_region <region>
dr_keys = None
replicas: dict[str, ReplicatedStorage] = {}
if profile.dr_region:
    dr_keys = Keys(
        "dr-keys",
        KeysArgs(
            resource_group_name=group,
            location=profile.dr_region,
            created_on=(
                dt.date.fromisoformat(keys_created_on)
                if keys_created_on
                else dt.datetime.now(dt.UTC).date()
            ),
            tags=tags,
            rotation_days=profile.key_rotation_days,
            hsm_keys=profile.hsm_keys,
            purposes=("data",),
            trusted_services_bypass=True,
            deployer_principal_id=config.get("deployer_object_id"),
            deployer_principal_type=config.get("deployer_principal_type") or "User",
        ),
    )
    for zone, source in (("data", data), ("artifacts", artifacts)):
        if source is None:
            continue
        replicas[zone] = ReplicatedStorage(
            f"{zone}-dr",
            ReplicatedStorageArgs(
                resource_group_name=group,
                source=source,
                source_location=location,
                location=profile.dr_region,
                cmk=dr_keys.cmk("data"),
                containers=(zone,),
                tags={**tags, "data-zone": "replica"},
            ),
        )

# Alert channel (SEC-03, DET-02): the project's one action group; secret expiry alerts,
# security alarms and Defender findings go there, e-mailed to `alert_emails` (none:
# add receivers later, README.md "Alerts").
alerts = AlertChannel(
    "alerts",
    AlertChannelArgs(
        resource_group_name=group,
        name_prefix=f"{profile.project}-{profile.stack}",
        tags=tags,
        emails=profile.alert_emails,
    ),
)

# Application secrets. List them in `app_secrets` with the date each value was set,
# and put each value in a config secret `secret-<name>`:
#   pulumi config set --path 'app_secrets.search-api-key' 2025-01-31
#   pulumi config set --secret secret-search-api-key <value>
# Each expires secret_rotation_days after that date. Key Vault rotates no secret and
# still serves an expired one: without a rotation function the expiry is a reminder
# (an alert to the action group 30 days before), and COMPLIANCE.md shows SEC-03
# "reminder only". A function that rotates them on Microsoft.KeyVault.SecretNearExpiry
# (README.md, "Secrets") is named by its ARM id:
#   pulumi config set secret_rotation_function_id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Web/sites/<app>/functions/<name>
app_secrets: dict[str, str] = config.get_object("app_secrets") or {}
secrets = Secrets(
    "secrets",
    SecretsArgs(
        resource_group_name=group,
        vault_name=keys.vault_name,
        vault_id=keys.vault_id,
        location=location,
        tags=tags,
        expiry_days=profile.secret_rotation_days,
        expiry_action_group_id=alerts.action_group_id,
        rotation_function_id=config.get("secret_rotation_function_id"),
        secrets={
            name: AppSecret(
                value=config.require_secret(f"secret-{name}"),
                rotated_on=dt.date.fromisoformat(str(rotated_on)),
            )
            for name, rotated_on in app_secrets.items()
        },
    ),
)

# Log Analytics, diagnostic settings on every resource, activity log export, flow logs
# and an immutable archive. Azure creates the archive's retention policy unlocked and
# refuses to create it locked; when the profile asks for immutable logs, lock it after
# the first deployment (irreversible):
#   pulumi config set lock_log_archive true && pulumi up
audit = AuditLogging(
    "audit",
    AuditLoggingArgs(
        resource_group_name=group,
        location=location,
        cmk=keys.cmk("logs"),
        tags=tags,
        retention_days=profile.log_retention_days,
        lock_immutability=profile.immutable_logs and bool(config.get_bool("lock_log_archive")),
        diagnostic_targets=[
            *network.diagnostic_targets,
            *keys.diagnostic_targets,
            *data.diagnostic_targets,
            *openai.diagnostic_targets,
            *secrets.diagnostic_targets,
            *(raw_data.diagnostic_targets if raw_data else []),
            *(artifacts.diagnostic_targets if artifacts else []),
            # Recovery-region resources log to the workspace only: a diagnostic setting
            # cannot write to the archive account in another region.
            *[
                dataclasses.replace(target, archive_group=None)
                for target in (dr_keys.diagnostic_targets if dr_keys else [])
            ],
            *[
                target
                for replica in replicas.values()
                for target in replica.diagnostic_targets
            ],
        ],
        flow_logs=FlowLogArgs(vnet_id=network.vnet_id),
    ),
)

# Private endpoints and private DNS for everything above.
PrivateEndpoints(
    "endpoints",
    PrivateEndpointsArgs(
        resource_group_name=group,
        location=location,
        tags=tags,
        vnet_id=network.vnet_id,
        subnet_id=network.private_endpoint_subnet_id,
        targets=[
            openai.private_link,
            keys.private_link,
            data.private_link,
            *audit.private_links,
            *([raw_data.private_link] if raw_data else []),
            *([artifacts.private_link] if artifacts else []),
            *([dr_keys.private_link] if dr_keys else []),
            *[replica.private_link for replica in replicas.values()],
        ],
    ),
)

# Detection and response (DET-01..04). Alarms on tampering and misuse, each routed to
# the alert channel with its runbook in docs/incident-response.md. Defender for Cloud
# plans and the security contact are subscription singletons: created here only when
# this stack owns the subscription's services (account_services: this-stack).
alarm_prefix = f"{profile.project}-{profile.stack}"
alarms = SecurityAlarms(
    "alarms",
    SecurityAlarmsArgs(
        resource_group_name=group,
        resource_group_id=network.resource_group_id,
        location=location,
        name_prefix=alarm_prefix,
        action_group_id=alerts.action_group_id,
        workspace_id=audit.workspace_id,
        ai_account_ids=[openai.account_id],
        secret_reader_ids=[workload.principal_id],
        tags=tags,
    ),
)
alarm_names = dict(alarms.alarm_names)
if profile.account_services == "this-stack":
    detection = ThreatDetection(
        "detection",
        ThreatDetectionArgs(
            resource_group_name=group,
            resource_group_id=network.resource_group_id,
            name_prefix=alarm_prefix,
            action_group_id=alerts.action_group_id,
            emails=profile.alert_emails,
            tags=tags,
        ),
    )
    alarm_names.update(detection.alarm_names)

# A central SIEM reads the project's Log Analytics workspace, and nothing else, when its
# identity is named (object id of Sentinel's or the collector's service principal):
#   pulumi config set siem_consumer <object id>
siem_consumer = config.get("siem_consumer")
if siem_consumer:
    SiemExport(
        "siem",
        SiemExportArgs(workspace_id=audit.workspace_id, consumer_object_id=siem_consumer),
    )

# ---- AI gateway (API-01..05)
# API Management in front of the workload when `api_gateway` is private (internal mode in
# its own subnet) or public (external mode behind Front Door Premium's WAF). Every
# operation validates the caller's token (gateway_oidc_issuer, gateway_oidc_audience) and
# is limited per caller; change the limits in the stack config:
#   pulumi config set gateway_rate_limit 20
# Until the workload's https URL is set, every call answers 503 and nothing is forwarded:
#   pulumi config set gateway_backend https://<workload host>
# Provisioning takes 30-45 minutes (README.md, "AI gateway").
if profile.api_gateway != "none":
    gateway = ApiGateway(
        "gateway",
        ApiGatewayArgs(
            resource_group_name=group,
            location=location,
            vnet_name=network.vnet_name,
            subnet_prefix=network.spare_subnet_prefix(2),
            mode="public" if profile.api_gateway == "public" else "private",
            oidc_issuer=profile.gateway_oidc_issuer,
            oidc_audience=profile.gateway_oidc_audience,
            publisher_email=(profile.alert_emails or ["security@example.com"])[0],
            workspace_id=audit.workspace_id,
            archive_account_id=audit.archive_account_id,
            rate_limit=profile.gateway_rate_limit,
            burst_limit=profile.gateway_burst_limit,
            tokens_per_minute=profile.gateway_tokens_per_minute,
            backend_url=config.get("gateway_backend") or None,
            confidential_data=profile.data_sensitivity in ("confidential", "restricted"),
            tags=tags,
            depends_on=[network],
        ),
    )
    pulumi.export("gateway_url", gateway.gateway_url)

# ---- cost guardrails (COST-01..03)
# A monthly budget of `monthly_budget` (billing currency) on the resource group, alerting
# the action group on actual spend above 50/80/100/120 % and forecasted spend above
# 100 %; 0 creates none. Change the amount with `pulumi config set monthly_budget 2000`.
# Azure cannot move a budget's start, so it is fixed at the first deployment's month
# (pin it for reproducible previews: pulumi config set budget_start 2025-01-01). The
# subscription's cost anomaly alert e-mails `alert_emails` (Azure e-mails these only) when
# this stack owns the subscription's services. Deployments above the capacity the budget
# pays for are reported, never lowered (README.md, "Cost guardrails").
budget_start = config.get("budget_start")
cost = CostGuardrails(
    "cost",
    CostGuardrailsArgs(
        resource_group_id=network.resource_group_id,
        name_prefix=f"{profile.project}-{profile.stack}",
        action_group_id=alerts.action_group_id,
        monthly_budget=profile.monthly_budget,
        start_date=(
            dt.date.fromisoformat(budget_start)
            if budget_start
            else dt.datetime.now(dt.UTC).date().replace(day=1)
        ),
        emails=profile.alert_emails,
        anomaly_alert=profile.account_services == "this-stack",
        location=location,
        deployments=ModelDeployment.from_models(
            profile.models, capacity=config.get_object("model_capacity", 10)
        ),
    ),
)

pulumi.export("data_classification", profile.data_sensitivity)
pulumi.export("resource_group", group)
pulumi.export("openai_endpoint_host", openai.endpoint_host)
pulumi.export("openai_deployments", openai.deployment_names)
pulumi.export("content_filter_policy", openai.guardrail.policy_name)
pulumi.export("workload_identity_client_id", workload.client_id)
pulumi.export("workload_identity_id", workload.identity_id)
pulumi.export("key_vault_uri", keys.vault_uri)
pulumi.export("secret_uris", secrets.secret_uris)
pulumi.export("alert_action_group_id", alerts.action_group_id)
pulumi.export("log_analytics_workspace_id", audit.workspace_id)
pulumi.export("alarm_names", alarm_names)
if len(workload_identities) > 1:
    pulumi.export(
        "workload_identity_client_ids",
        {kind: identity.client_id for kind, identity in workload_identities.items()},
    )
if raw_data is not None:
    pulumi.export("raw_data_account", raw_data.account_name)
if artifacts is not None:
    pulumi.export("model_artifacts_account", artifacts.account_name)
if replicas:
    pulumi.export("dr_region", profile.dr_region)
    pulumi.export(
        "replica_accounts", {zone: r.account_name for zone, r in replicas.items()}
    )

