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
  secrets                list of secret ids (default: [app-api-key]); the value of
                         each comes from the config secret `secret-<id>`
                         (pulumi config set --secret secret-<id> ...)
"""

import pulumi
import pulumi_gcp as gcp
from aiscaffold_components.gcp import (
    AuditLogging,
    AuditLoggingArgs,
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
    Secrets,
    SecretsArgs,
    VertexAI,
    VertexAIArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
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

project = gcp.organizations.get_project()
project_id = project.project_id
if not project_id:
    raise ValueError("no Google Cloud project: run `pulumi config set gcp:project <project-id>`")
project_number = project.number

# APIs the components use; left enabled when the stack is destroyed.
apis = [
    gcp.projects.Service(
        f"api-{service.split('.')[0]}",
        project=project_id,
        service=service,
        disable_on_destroy=False,
    )
    for service in (
        "aiplatform.googleapis.com",
        "cloudkms.googleapis.com",
        "compute.googleapis.com",
        "dlp.googleapis.com",
        "dns.googleapis.com",
        "logging.googleapis.com",
        "modelarmor.googleapis.com",
        "networkconnectivity.googleapis.com",
        "notebooks.googleapis.com",
        "orgpolicy.googleapis.com",
        "pubsub.googleapis.com",
        "secretmanager.googleapis.com",
        "servicedirectory.googleapis.com",
        "storage.googleapis.com",
    )
]
after_apis = pulumi.ResourceOptions(depends_on=apis)

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
    opts=after_apis,
)

# Network isolation (NET-01..04): custom VPC, deny-all firewall, no internet egress.
network = Network(
    f"{name}-net",
    NetworkArgs(
        project=project_id,
        region=profile.region,
        flow_log_sampling=profile.flow_log_sampling,
        allow_internet_egress=profile.allow_internet_egress,
    ),
    opts=after_apis,
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
    opts=after_apis,
)

# Least-privilege identity (IAM-01..04).
identity = WorkloadIdentity(
    f"{name}-workload",
    WorkloadIdentityArgs(project=project_id),
    opts=after_apis,
)

# Audit logging (LOG-01..05): Data Access logs in a CMEK log bucket and archive.
audit = AuditLogging(
    f"{name}-audit",
    AuditLoggingArgs(
        project=project_id,
        location=profile.region,
        kms_key_name=keys.key_ids["logs"],
        retention_days=profile.log_retention_days,
        locked=profile.immutable_logs,
        protect=profile.deletion_protection,
        labels=labels,
    ),
    opts=after_apis,
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
    opts=after_apis,
)

# Secrets (SEC-01..03): replicas only in the workload region, CMEK, rotation notices.
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
        labels=labels,
    ),
    opts=after_apis,
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
    opts=after_apis,
)

# Project guardrails (GOV-02, GOV-06, IAM-03) and the optional perimeter (PE-04).
org_policies = OrgPolicies(
    f"{name}-org",
    OrgPoliciesArgs(
        project=project_id,
        project_number=project_number,
        allowed_regions=profile.allowed_regions,
        vpc_sc_access_policy=vpc_sc_access_policy,
        perimeter_deployers=vpc_sc_deployers,
        perimeter_access_levels=vpc_sc_access_levels,
    ),
    opts=after_apis,
)

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

