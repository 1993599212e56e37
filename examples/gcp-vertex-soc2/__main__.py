"""gcp-vertex-soc2: Internal knowledge search on Vertex AI

Composes aiscaffold's hardened Google Cloud components from the stack's profile
(Pulumi.dev.yaml). Run `aiscaffold check` to verify it offline.

Optional stack config besides the profile:
  workbench              true: a Vertex AI Workbench instance for notebooks, reached
                         through an IAP SSH tunnel (see README)
  workbench_proxy        true: also publish it on the Workbench proxy (weakens NET-06)
  vpc_sc_access_policy   Access Context Manager policy number: a VPC Service Controls
                         perimeter around the project (needs organization rights)
  vpc_sc_deployers       list of user:<email> / serviceAccount:<email> admitted through
                         the perimeter from outside, so `pulumi up` keeps working
  vpc_sc_access_levels   list of access level names the perimeter admits from outside
  lock_log_archive       true: lock the log bucket and the archive's retention when the
                         profile asks for immutable logs (irreversible: a second step)
  secrets                list of secret ids (default: [app-api-key]); the value of
                         each comes from the config secret `secret-<id>`
                         (pulumi config set --secret secret-<id> ...)
  secret_rotation_push_endpoint
                         https URL of your rotation service (e.g. a Cloud Run
                         service): each SECRET_ROTATE notice is pushed to it, and it
                         adds the new version. Without it nothing rotates the values:
                         the notices only remind the owners (see README)
  secret_rotation_push_service_account
                         email of the service account Pub/Sub signs those pushes as
                         (OIDC token, audience: the endpoint); needed with the endpoint
  siem_consumer          IAM member of a central SIEM (serviceAccount:<email>, group:...):
                         a log sink exports the audit and AI logs to a CMEK topic whose
                         subscription only it may pull (DET-04; see README, "Alerts")
  gateway_backend        the Cloud Run service (name, in the region) the AI gateway
                         forwards to; until set, every call answers 503 (API-01..05)
  gateway_domain         public gateway: domain of its Google-managed certificate
  gateway_certificate    PEM certificate of the gateway (with the secret
                         gateway_private_key); a private gateway needs one
  ai_requests_per_minute cap on each model's Vertex AI requests per minute and region
                         (COST-03; default 60, 0: no cap; see README, "Cost guardrails")
"""

import pulumi
import pulumi_gcp as gcp
from aiscaffold_components.gcp import (
    AlertChannel,
    AlertChannelArgs,
    ApiGateway,
    ApiGatewayArgs,
    ServiceApis,
    AuditLogging,
    AuditLoggingArgs,
    CostGuardrails,
    CostGuardrailsArgs,
    Guardrail,
    GuardrailArgs,
    Keys,
    KeysArgs,
    Network,
    NetworkArgs,
    OrgPolicies,
    OrgPoliciesArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    ReplicatedBucket,
    ReplicatedBucketArgs,
    Secrets,
    SecretsArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
    VertexAI,
    VertexAIArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    WorkloadSegments,
    WorkloadSegmentsArgs,
)
from aiscaffold_components.profile import Profile

profile = Profile.from_config()
config = pulumi.Config()
labels = profile.tags
name = profile.project

workbench = config.get_bool("workbench") or False
workbench_proxy = config.get_bool("workbench_proxy") or False
vpc_sc_access_policy = config.get("vpc_sc_access_policy")
vpc_sc_deployers: list[str] = list(config.get_object("vpc_sc_deployers") or [])
vpc_sc_access_levels: list[str] = list(config.get_object("vpc_sc_access_levels") or [])
secret_ids: list[str] = list(config.get_object("secrets") or ["app-api-key"])
secret_rotation_push_endpoint = config.get("secret_rotation_push_endpoint")
secret_rotation_push_service_account = config.get("secret_rotation_push_service_account")
lock_log_archive = config.get_bool("lock_log_archive") or False
siem_consumer = config.get("siem_consumer")

project = gcp.organizations.get_project()
project_id = project.project_id
if not project_id:
    raise ValueError("no Google Cloud project: run `pulumi config set gcp:project <project-id>`")
project_number = project.number

# APIs (GOV): each Google Cloud resource below waits for the API that serves it, enabled
# by a projects.Service of this stack (api-<name>, left enabled on destroy). The list
# derives from the resource types the program registers (aiscaffold_components.gcp.apis).
apis = ServiceApis(project_id)
pulumi.runtime.register_stack_transformation(apis.transformation)

# Customer-managed keys (KEY-01..05): one per purpose, in the workload region. A key id
# resolves once its service agents may use the key, so stores using it wait for that.
keys = Keys(
    f"{name}-keys",
    KeysArgs(
        project=project_id,
        project_number=project_number,
        location=profile.region,
        rotation_days=profile.key_rotation_days,
        protection_level="HSM" if profile.hsm_keys else "SOFTWARE",
        destroy_scheduled_days=profile.key_deletion_window_days,
        compute_disk_encryption=workbench,
        labels=labels,
    ),
)

# Network isolation (NET-01..04): custom VPC, deny-all firewall, no internet egress.
network = Network(
    f"{name}-net",
    NetworkArgs(
        project=project_id,
        region=profile.region,
        flow_log_sampling=profile.flow_log_sampling,
        allow_internet_egress=profile.allow_internet_egress,
        # The private AI gateway's internal load balancer runs its proxies here.
        proxy_only_subnet_cidr="10.10.16.0/23" if profile.api_gateway == "private" else None,
    ),
)

# Private endpoints (PE-01..05): Google APIs through Private Service Connect. Model
# Armor screens prompts only at its regional endpoint, which the API bundle does not
# serve: a regional endpoint in the workload subnet lets the workload reach it.
endpoints = PrivateEndpoints(
    f"{name}-pe",
    PrivateEndpointsArgs(
        project=project_id,
        network_id=network.network_id,
        region=profile.region,
        subnet_id=network.subnet_id,
        subnet_cidr=network.subnet_cidr,
        bundle="vpc-sc" if vpc_sc_access_policy else "all-apis",
        labels=labels,
    ),
)

# Least-privilege identity (IAM-01..04).
identity = WorkloadIdentity(
    f"{name}-workload",
    WorkloadIdentityArgs(project=project_id),
)

# Audit logging (LOG-01..05): Data Access logs in a CMEK log bucket and archive. Locking
# them is irreversible (the buckets can then never be shortened or deleted early), so it
# is a second, explicit step once the stack is right:
#   pulumi config set lock_log_archive true && pulumi up
audit = AuditLogging(
    f"{name}-audit",
    AuditLoggingArgs(
        project=project_id,
        location=profile.region,
        kms_key_name=keys.key_ids["logs"],
        retention_days=profile.log_retention_days,
        locked=profile.immutable_logs and lock_log_archive,
        protect=profile.deletion_protection,
        labels=labels,
    ),
)

# AI guardrails (AI-01..05): Model Armor template and project floor setting.
guardrail = Guardrail(
    f"{name}-guardrail",
    GuardrailArgs(
        project=project_id,
        location=profile.region,
        content_filter_strength=profile.content_filter_strength,
        sensitive_data_protection=profile.sensitive_data_protection,
        pii_entities=profile.pii_entities,
        pii_action=profile.pii_action,
        denied_topics=profile.guardrail_denied_topics,
        vertex_service_agent=keys.service_agents["aiplatform"],
        labels=labels,
    ),
)

# Alert channel (SEC-03, DET-02): the project's one alert topic, encrypted with the
# secrets key (whose user the Pub/Sub service agent already is), messages kept in the
# allowed regions. Secret Manager and Cloud Monitoring publish to it; each address of
# alert_emails gets an e-mail channel (README.md, "Alerts", to add one later).
alerts = AlertChannel(
    "alerts",
    AlertChannelArgs(
        project=project_id,
        name_prefix=f"{name}-{profile.stack}",
        kms_key_name=keys.key_ids["secrets"],
        regions=[profile.region],
        publishers={"secretmanager": keys.service_agents["secretmanager"]},
        labels=labels,
        emails=profile.alert_emails,
        project_number=project_number,
    ),
)

# Detection and response (DET-01..04). Security Command Center's notification config
# exists once per project: with account_services "shared" the stack owning the
# project's services streams the findings (README.md, "Alerts").
if profile.account_services == "this-stack":
    threat_detection = ThreatDetection(
        f"{name}-threats",
        ThreatDetectionArgs(
            project=project_id,
            topic_id=alerts.topic_id,
            config_id=f"{name}-{profile.stack}-high-severity-finding",
        ),
    )
    pulumi.export("scc_notification_config", threat_detection.config_name)
# The tampering and misuse alarms of the audit trail, each routed to the alert channel,
# each with its runbook in docs/incident-response.md.
alarms = SecurityAlarms(
    f"{name}-alarms",
    SecurityAlarmsArgs(
        project=project_id,
        name_prefix=f"{name}-{profile.stack}",
        notification_channels=alerts.notification_channel_ids,
        workload_email=identity.email,
        workload_role=identity.invoker_role,
        labels=labels,
    ),
)
# SIEM export (DET-04): off unless the stack config names the SIEM's identity.
if siem_consumer:
    siem = SiemExport(
        f"{name}-siem",
        SiemExportArgs(
            project=project_id,
            consumer=siem_consumer,
            name_prefix=f"{name}-{profile.stack}",
            kms_key_name=keys.key_ids["secrets"],
            regions=[profile.region],
            labels=labels,
        ),
    )
    pulumi.export("siem_subscription", siem.subscription_id)

# Secrets (SEC-01..03): replicas only in the workload region, CMEK, rotation notices to
# the rotation topic, pushed to the rotation service when one is configured (else they
# are reminders only), and to the alert topic (the owners).
secrets = Secrets(
    f"{name}-secrets",
    SecretsArgs(
        project=project_id,
        replicas={profile.region: keys.key_ids["secrets"]},
        allowed_regions=profile.allowed_regions,
        secrets={secret_id: config.get_secret(f"secret-{secret_id}") for secret_id in secret_ids},
        accessor=identity.member,
        rotation_days=profile.secret_rotation_days,
        secret_manager_agent=keys.service_agents["secretmanager"],
        notify_topics=[alerts.topic_id],
        rotation_push_endpoint=secret_rotation_push_endpoint,
        rotation_push_service_account=secret_rotation_push_service_account,
        labels=labels,
    ),
)

# The AI service (NET-06, PE-01, PE-03): private CMEK endpoint, datasets bucket.
vertex = VertexAI(
    f"{name}-vertex",
    VertexAIArgs(
        project=project_id,
        region=profile.region,
        network_id=network.network_id,
        kms_key_name=keys.key_ids["vertex"],
        datasets_kms_key_name=keys.key_ids["data"],
        invoker=identity.member,
        invoker_role=identity.invoker_role,
        workbench=workbench,
        workbench_subnet_id=network.subnet_id,
        workbench_service_account=identity.email,
        workbench_proxy_access=workbench_proxy,
        labels=labels,
    ),
)

# Workload segments (IAM-05, NET-07, GOV-07): inference is the workload above (its
# identity, subnet and the datasets bucket, which is the curated data zone). Each other
# workload type of the profile gets its own service account with only its permissions,
# its own subnet with firewall rules denying traffic to and from the other segments
# (the flows each keeps: aiscaffold_components.gcp.segments.ALLOWED_FLOWS), and its data
# zone: training writes the model artifacts bucket, data processing reads the raw one.
segments = None
if len(profile.workloads) > 1:
    segments = WorkloadSegments(
        f"{name}-segments",
        WorkloadSegmentsArgs(
            project=project_id,
            region=profile.region,
            network_id=network.network_id,
            inference_email=identity.email,
            inference_cidr=network.subnet_cidr,
            curated_bucket=vertex.datasets_bucket_name,
            data_kms_key_name=keys.key_ids["data"],
            workloads=profile.workloads,
            deletion_protection=profile.deletion_protection,
            flow_log_sampling=profile.flow_log_sampling,
            labels=labels,
        ),
    )
    pulumi.export("workload_identities", segments.emails)
    pulumi.export("workload_subnets", segments.subnet_ids)
    if segments.raw_bucket_name is not None:
        pulumi.export("raw_bucket", segments.raw_bucket_name)
    if segments.artifacts_bucket_name is not None:
        pulumi.export("artifacts_bucket", segments.artifacts_bucket_name)

# Recovery (REC-01), per stack: with dr_region set (pulumi config set
# gcp-vertex-soc2:dr_region <region>), the curated data and model artifacts replicate
# to buckets in that region with the same hardening, encrypted with a key ring and key of
# that region (Cloud Storage only uses a key in the bucket's location). The primary
# buckets never move (a location change replaces a bucket). Storage Transfer Service
# copies new and updated objects within minutes (docs/disaster-recovery.md).
if profile.dr_region:
    dr_keys = Keys(
        f"{name}-dr-keys",
        KeysArgs(
            project=project_id,
            project_number=project_number,
            location=profile.dr_region,
            purposes=["data"],
            rotation_days=profile.key_rotation_days,
            protection_level="HSM" if profile.hsm_keys else "SOFTWARE",
            destroy_scheduled_days=profile.key_deletion_window_days,
            labels=labels,
        ),
    )
    transfer_api = apis.enable("storagetransfer.googleapis.com")
    replicated = {"curated": vertex.datasets_bucket_name}
    if segments is not None and segments.artifacts_bucket_name is not None:
        replicated["artifacts"] = segments.artifacts_bucket_name
    replicas = {
        zone: ReplicatedBucket(
            f"{name}-{zone}-dr",
            ReplicatedBucketArgs(
                project=project_id,
                source_bucket=source,
                location=profile.dr_region,
                kms_key_name=dr_keys.key_ids["data"],
                labels=labels,
            ),
            opts=pulumi.ResourceOptions(depends_on=[transfer_api]),
        )
        for zone, source in replicated.items()
    }
    pulumi.export("replica_buckets", {zone: r.bucket_name for zone, r in replicas.items()})
    pulumi.export("dr_key_ids", dr_keys.key_ids)

# Project guardrails (GOV-02, GOV-06, IAM-03) and the optional perimeter (PE-04).
# Organization policies need roles/orgpolicy.policyAdmin on the organization: with
# gcp_org_policies false the organization's administrators set them instead.
if profile.gcp_org_policies or vpc_sc_access_policy:
    org_policies = OrgPolicies(
        f"{name}-org",
        OrgPoliciesArgs(
            project=project_id,
            project_number=project_number,
            allowed_regions=profile.allowed_regions,
            organization_policies=profile.gcp_org_policies,
            vpc_sc_access_policy=vpc_sc_access_policy,
            perimeter_deployers=vpc_sc_deployers,
            perimeter_access_levels=vpc_sc_access_levels,
        ),
    )

# ---- AI gateway (API-01..05)
# With api_gateway private or public: an application load balancer (internal, or
# external behind Cloud Armor's WAF) before ESPv2, which checks each caller's OIDC token
# (issuer and audience from the profile), throttled per client to gateway_rate_limit
# requests/s. Stack config: gateway_backend (the workload's Cloud Run service; until it
# is set every call answers 503), gateway_domain (public: a Google-managed certificate)
# or gateway_certificate with the secret gateway_private_key (PEM); without either the
# HTTPS frontend waits (README.md, "AI gateway").
if profile.api_gateway != "none":
    gateway = ApiGateway(
        f"{name}-gateway",
        ApiGatewayArgs(
            project=project_id,
            project_number=project_number,
            region=profile.region,
            name_prefix=f"{name}-{profile.stack}",
            mode=profile.api_gateway,
            oidc_issuer=profile.gateway_oidc_issuer,
            oidc_audience=profile.gateway_oidc_audience,
            rate_limit=profile.gateway_rate_limit,
            burst_limit=profile.gateway_burst_limit,
            tokens_per_minute=profile.gateway_tokens_per_minute,
            network_id=network.network_id,
            subnet_id=network.subnet_id,
            backend_service=config.get("gateway_backend") or None,
            domain=config.get("gateway_domain") or None,
            certificate=config.get("gateway_certificate") or None,
            private_key=config.get_secret("gateway_private_key"),
            labels=labels,
        ),
        opts=pulumi.ResourceOptions(depends_on=[network]),
    )
    pulumi.export("gateway_address", gateway.address)
    pulumi.export("gateway_endpoints_service", gateway.endpoints_service_name)

# ---- cost guardrails (COST-01..03)
# Budgets on the billing account for the project's spend and Vertex AI's own line, with
# actual and forecast alerts to the alert channel (its topic, and its e-mail channels:
# Billing takes at most five), and a cap on each model's requests per minute (stack
# config ai_requests_per_minute; 0: none). Without billing_account, or with a
# monthly_budget of 0, no budget is created (README.md, "Cost guardrails").
cost = CostGuardrails(
    f"{name}-cost",
    CostGuardrailsArgs(
        project=project_id,
        project_number=project_number,
        name_prefix=f"{name}-{profile.stack}",
        region=profile.region,
        monthly_budget=profile.monthly_budget,
        billing_account=profile.billing_account,
        alert_topic_id=alerts.topic_id,
        notification_channels=list(alerts.email_channel_ids.values())[:5],
        models=profile.models,
        requests_per_minute=config.get_int("ai_requests_per_minute"),
        impersonate_service_account=pulumi.Config("gcp").get("impersonateServiceAccount"),
    ),
)
pulumi.export("budgets", cost.budget_names)

pulumi.export("data_classification", profile.data_sensitivity)
pulumi.export("project_id", project_id)
pulumi.export("endpoint_id", vertex.endpoint_id)
pulumi.export("service_account_email", identity.email)
pulumi.export("key_ids", keys.key_ids)
pulumi.export("guardrail_template", guardrail.template_name)
pulumi.export("datasets_bucket", vertex.datasets_bucket_name)
pulumi.export("log_archive_bucket", audit.archive_bucket_name)
pulumi.export("log_bucket", audit.log_bucket_id)
pulumi.export("network", network.network_id)
pulumi.export("alert_topic", alerts.topic_id)
pulumi.export("alert_channels", alerts.notification_channel_ids)
pulumi.export("alerts", alarms.alert_names)

