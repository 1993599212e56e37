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
    email = f"service-{PROJECT_NUMBER}@gcp-sa-{service}.iam.gserviceaccount.com"
    return f"projects/{project(config, inputs)}/services/{inputs.get('service', '')}", {
        "email": email,
        "member": f"serviceAccount:{email}",
    }


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


_SPECIAL: dict[str, _Special] = {
    "serviceaccount:Account": _service_account,
    "kms:KeyRing": _key_ring,
    "kms:CryptoKey": _crypto_key,
    "projects:ServiceIdentity": _service_identity,
    "storage:Bucket": _bucket,
    "secretmanager:Secret": _secret,
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


INVOKES: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]] = {
    "gcp:organizations/getProject:getProject": _project,
    "gcp:organizations/getClientConfig:getClientConfig": _client_config,
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _gcs_account,
}
