"""Google Cloud (pulumi-gcp) outputs and invokes for the mocks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

PROJECT_NUMBER = "123456789012"


def project(config: dict[str, str], inputs: dict[str, Any] | None = None) -> str:
    if inputs and isinstance(inputs.get("project"), str):
        return str(inputs["project"])
    return config.get("gcp:project", "mock-project")


def region(config: dict[str, str]) -> str:
    return config.get("gcp:region", "us-central1")


def outputs(
    type_: str, name: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The id and outputs Google Cloud would report for a new resource."""
    module, _, _ = type_.split(":")[1].partition("/")
    resource = type_.split(":")[2]
    own = inputs.get("name") or f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:7]}"
    proj = project(config, inputs)
    collection = resource[0].lower() + resource[1:] + "s"
    rid = f"projects/{proj}/{collection}/{own}"
    out: dict[str, Any] = {
        "name": own,
        "project": proj,
        "selfLink": f"https://www.googleapis.com/{module}/v1/{rid}",
    }
    special = _SPECIAL.get(f"{module}:{resource}")
    if special is not None:
        rid, extra = special(name, str(own), inputs, config)
        out.update(extra)
    out.setdefault("id", rid)
    if "labels" in inputs:
        out.setdefault("effectiveLabels", inputs["labels"])
    return rid, out


_Special = Callable[[str, str, dict[str, Any], dict[str, str]], tuple[str, dict[str, Any]]]


def _service_account(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    proj = project(config, inputs)
    account = inputs.get("accountId", own)
    email = f"{account}@{proj}.iam.gserviceaccount.com"
    rid = f"projects/{proj}/serviceAccounts/{email}"
    return rid, {
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": rid,
        "uniqueId": str(int(hashlib.sha256(email.encode()).hexdigest()[:12], 16)),
    }


def _key_ring(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    location = inputs.get("location", region(config))
    rid = f"projects/{project(config, inputs)}/locations/{location}/keyRings/{own}"
    return rid, {}


def _crypto_key(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return f"{inputs.get('keyRing', 'keyring')}/cryptoKeys/{own}", {}


def _service_identity(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    service = str(inputs.get("service", "unknown.googleapis.com")).split(".")[0]
    service = _AGENT_DOMAINS.get(service, service)
    email = f"service-{PROJECT_NUMBER}@gcp-sa-{service}.iam.gserviceaccount.com"
    return f"projects/{project(config, inputs)}/services/{inputs.get('service', '')}", {
        "email": email,
        "member": f"serviceAccount:{email}",
    }


#: Service agents whose domain is not gcp-sa-<service>.
_AGENT_DOMAINS = {"monitoring": "monitoring-notification"}


def _scc_agent(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    email = f"service-{PROJECT_NUMBER}@gcp-sa-scc-notification.iam.gserviceaccount.com"
    return f"projects/{project(config, inputs)}/sccServiceAccount", {
        "email": email,
        "member": f"serviceAccount:{email}",
    }


def _monitoring(collection: str) -> _Special:
    """Monitoring names its objects with a number it chooses (``.../alertPolicies/123``)."""

    def build(
        name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        number = int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)
        rid = f"projects/{project(config, inputs)}/{collection}/{number}"
        return rid, {"name": rid}

    return build


def _scc_config(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = (
        f"projects/{project(config, inputs)}/locations/{inputs.get('location', 'global')}"
        f"/notificationConfigs/{inputs.get('configId', own)}"
    )
    email = f"service-{PROJECT_NUMBER}@gcp-sa-scc-notification.iam.gserviceaccount.com"
    return rid, {"name": rid, "serviceAccount": email}


def _subscription(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return f"projects/{project(config, inputs)}/subscriptions/{own}", {}


def _bucket(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return own, {"url": f"gs://{own}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{own}"}


def _secret(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    secret_id = inputs.get("secretId", own)
    rid = f"projects/{PROJECT_NUMBER}/secrets/{secret_id}"
    return rid, {"name": rid}


def _global(collection: str) -> _Special:
    """Global compute resources: ``projects/<p>/global/<collection>/<name>``."""

    def build(
        name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        rid = f"projects/{project(config, inputs)}/global/{collection}/{own}"
        return rid, {"selfLink": f"https://www.googleapis.com/compute/v1/{rid}"}

    return build


def _regional(collection: str) -> _Special:
    """Regional compute resources: ``projects/<p>/regions/<r>/<collection>/<name>``."""

    def build(
        name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        where = inputs.get("region") or region(config)
        rid = f"projects/{project(config, inputs)}/regions/{where}/{collection}/{own}"
        return rid, {"selfLink": f"https://www.googleapis.com/compute/v1/{rid}"}

    return build


def _global_address(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid, extra = _global("addresses")(name, own, inputs, config)
    return rid, {**extra, "address": inputs.get("address", "10.255.255.254")}


def _located(collection: str, id_key: str | None = None) -> _Special:
    """``projects/<p>/locations/<l>/<collection>/<id>`` resources; ``name`` is the full path."""

    def build(
        name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        where = inputs.get("location") or region(config)
        ident = inputs.get(id_key, own) if id_key else own
        rid = f"projects/{project(config, inputs)}/locations/{where}/{collection}/{ident}"
        return rid, {"name": rid}

    return build


def _endpoint(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    where = inputs.get("location") or region(config)
    number = str(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    rid = f"projects/{project(config, inputs)}/locations/{where}/endpoints/{number}"
    return rid, {"name": number}


def _custom_role(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"projects/{project(config, inputs)}/roles/{inputs.get('roleId', own)}"
    return rid, {"name": rid, "deleted": False}


def _sink(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    writer = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com"
    return f"projects/{project(config, inputs)}/sinks/{own}", {"writerIdentity": writer}


def _dlp_template(collection: str) -> _Special:
    def build(
        name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
    ) -> tuple[str, dict[str, Any]]:
        parent = inputs.get("parent", f"projects/{project(config)}/locations/{region(config)}")
        rid = f"{parent}/{collection}/{inputs.get('templateId', own)}"
        return rid, {"name": rid}

    return build


def _floor_setting(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"{inputs.get('parent', '')}/locations/{inputs.get('location', 'global')}/floorSetting"
    return rid, {"name": rid}


def _secret_version(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    rid = f"{inputs.get('secret', 'secret')}/versions/1"
    return rid, {"name": rid, "version": "1"}


def _topic(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return f"projects/{project(config, inputs)}/topics/{own}", {}


def _zone(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    return f"projects/{project(config, inputs)}/managedZones/{own}", {
        "managedZoneId": str(int(hashlib.sha256(own.encode()).hexdigest()[:8], 16))
    }


def _identity_pool(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    # Workload identity pools are named by the project's number, not its id.
    rid = (
        f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
        f"{inputs.get('workloadIdentityPoolId', own)}"
    )
    return rid, {"name": rid, "state": "ACTIVE"}


def _identity_pool_provider(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    pool, _ = _identity_pool(name, own, inputs, config)
    rid = f"{pool}/providers/{inputs.get('workloadIdentityPoolProviderId', own)}"
    return rid, {"name": rid, "state": "ACTIVE"}


def _budget(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    # Budgets live on the billing account, named by a server-chosen id.
    budget_id = hashlib.sha256(name.encode()).hexdigest()[:12]
    rid = f"billingAccounts/{inputs.get('billingAccount', '')}/budgets/{budget_id}"
    return rid, {"name": rid}


def _quota_override(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    override_id = hashlib.sha256(name.encode()).hexdigest()[:8]
    rid = (
        f"projects/{project(config, inputs)}/services/{inputs.get('service', '')}/"
        f"consumerQuotaMetrics/{inputs.get('metric', '')}/limits/{inputs.get('limit', '')}/"
        f"consumerOverrides/{override_id}"
    )
    return rid, {"name": override_id}


def _named(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """Resources whose id is their ``name`` input (org policies, perimeters)."""
    return str(inputs.get("name", own)), {}


def _internal_address(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """A regional address; internal ones take an address of the workload subnet."""
    rid, extra = _regional("addresses")(name, own, inputs, config)
    internal = inputs.get("addressType") == "INTERNAL"
    default = "10.10.0.250" if internal else "203.0.113.10"
    return rid, {**extra, "address": inputs.get("address", default)}


def _endpoints_service(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """An Endpoints service: named by its host; each configuration gets an id."""
    service = str(inputs.get("serviceName", own))
    digest = hashlib.sha256(str(inputs.get("openapiConfig", "")).encode()).hexdigest()[:6]
    return service, {"serviceName": service, "configId": f"2026-12-07r{int(digest, 16) % 10}"}


def _run_service(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    where = inputs.get("location") or region(config)
    rid = f"projects/{project(config, inputs)}/locations/{where}/services/{own}"
    return rid, {"uri": f"https://{own}-{PROJECT_NUMBER}.{where}.run.app"}


_SPECIAL: dict[str, _Special] = {
    "serviceaccount:Account": _service_account,
    "iam:WorkloadIdentityPool": _identity_pool,
    "iam:WorkloadIdentityPoolProvider": _identity_pool_provider,
    "kms:KeyRing": _key_ring,
    "kms:CryptoKey": _crypto_key,
    "projects:ServiceIdentity": _service_identity,
    "projects:IAMCustomRole": _custom_role,
    "storage:Bucket": _bucket,
    "secretmanager:Secret": _secret,
    "secretmanager:SecretVersion": _secret_version,
    "compute:Network": _global("networks"),
    "compute:Firewall": _global("firewalls"),
    "compute:Route": _global("routes"),
    "compute:GlobalAddress": _global_address,
    "compute:GlobalForwardingRule": _global("forwardingRules"),
    "compute:Subnetwork": _regional("subnetworks"),
    "compute:Router": _regional("routers"),
    # The AI gateway (aiscaffold_components.gcp.gateway).
    "compute:Address": _internal_address,
    "compute:ForwardingRule": _regional("forwardingRules"),
    "compute:RegionNetworkEndpointGroup": _regional("networkEndpointGroups"),
    "compute:SecurityPolicy": _global("securityPolicies"),
    "compute:RegionSecurityPolicy": _regional("securityPolicies"),
    "compute:BackendService": _global("backendServices"),
    "compute:RegionBackendService": _regional("backendServices"),
    "compute:URLMap": _global("urlMaps"),
    "compute:RegionUrlMap": _regional("urlMaps"),
    "compute:SSLPolicy": _global("sslPolicies"),
    "compute:RegionSslPolicy": _regional("sslPolicies"),
    "compute:ManagedSslCertificate": _global("sslCertificates"),
    "compute:SSLCertificate": _global("sslCertificates"),
    "compute:RegionSslCertificate": _regional("sslCertificates"),
    "compute:TargetHttpsProxy": _global("targetHttpsProxies"),
    "compute:RegionTargetHttpsProxy": _regional("targetHttpsProxies"),
    "endpoints:Service": _endpoints_service,
    "cloudrunv2:Service": _run_service,
    "dns:ManagedZone": _zone,
    "logging:ProjectBucketConfig": _located("buckets", "bucketId"),
    "logging:ProjectSink": _sink,
    "modelarmor:Template": _located("templates", "templateId"),
    "modelarmor:Floorsetting": _floor_setting,
    "dataloss:PreventionInspectTemplate": _dlp_template("inspectTemplates"),
    "dataloss:PreventionDeidentifyTemplate": _dlp_template("deidentifyTemplates"),
    "pubsub:Topic": _topic,
    "pubsub:Subscription": _subscription,
    "monitoring:NotificationChannel": _monitoring("notificationChannels"),
    "monitoring:AlertPolicy": _monitoring("alertPolicies"),
    "securitycenter:NotificationServiceAccount": _scc_agent,
    "securitycenter:V2ProjectNotificationConfig": _scc_config,
    "vertex:AiEndpoint": _endpoint,
    "workbench:Instance": _located("instances"),
    "orgpolicy:Policy": _named,
    "billing:Budget": _budget,
    "serviceusage:ConsumerQuotaOverride": _quota_override,
    "accesscontextmanager:ServicePerimeter": _named,
}


def _project(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    proj = args.get("project_id") or args.get("projectId") or project(config)
    return {
        "projectId": proj,
        "number": PROJECT_NUMBER,
        "name": proj,
        "id": f"projects/{proj}",
        "labels": {},
        "effectiveLabels": {},
    }


def _client_config(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    return {
        "project": project(config),
        "region": region(config),
        "zone": f"{region(config)}-a",
        "accessToken": "mock-token",
        "id": project(config),
    }


def _gcs_account(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    email = f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
    return {
        "emailAddress": email,
        "member": f"serviceAccount:{email}",
        "id": email,
        "project": project(config),
    }


def _transfer_account(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    email = f"project-{PROJECT_NUMBER}@storage-transfer-service.iam.gserviceaccount.com"
    return {
        "email": email,
        "member": f"serviceAccount:{email}",
        "id": email,
        "project": args.get("project") or project(config),
        "subjectId": "100000000000000000001",
    }


def _logging_cmek_settings(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    proj = args.get("project") or project(config)
    return {
        "id": f"projects/{proj}/cmekSettings",
        "name": f"projects/{proj}/cmekSettings",
        "project": proj,
        "serviceAccountId": f"service-{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
        "kmsKeyName": "",
        "kmsKeyVersionName": "",
    }


def _zones(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    where = args.get("region") or region(config)
    return {
        "id": f"projects/{args.get('project') or project(config)}/regions/{where}",
        "names": [f"{where}-{zone}" for zone in "abc"],
        "project": args.get("project") or project(config),
        "region": where,
        "status": args.get("status"),
    }


INVOKES: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]] = {
    "gcp:organizations/getProject:getProject": _project,
    "gcp:organizations/getClientConfig:getClientConfig": _client_config,
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _gcs_account,
    "gcp:logging/getProjectCmekSettings:getProjectCmekSettings": _logging_cmek_settings,
    "gcp:compute/getZones:getZones": _zones,
    "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": (
        _transfer_account
    ),
}
