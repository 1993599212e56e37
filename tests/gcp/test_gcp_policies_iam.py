"""GCP-IAM policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from gcp.gcp_policy_support import (
    AGENT,
    PROJECT,
    VERTEX_AGENT,
    WORKLOAD,
    flagged,
    member,
    policy_data,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
ACCOUNT = "gcp:serviceaccount/account:Account"
INVOKER = f"projects/{PROJECT}/roles/aiscaffold_invoker_app"
DEFAULT_SA = "serviceAccount:123456789012-compute@developer.gserviceaccount.com"


def test_no_basic_roles() -> None:
    resources = [
        member(PROJECT_MEMBER, "writer", "roles/logging.logWriter", WORKLOAD, project=PROJECT),
        member(PROJECT_MEMBER, "editor", "roles/editor", WORKLOAD, project=PROJECT),
        member(BUCKET_MEMBER, "viewer", "roles/viewer", WORKLOAD, bucket="b"),
        res(
            "gcp:projects/iAMBinding:IAMBinding",
            "owners",
            {"role": "roles/owner", "members": ["user:a@example.com"]},
        ),
        res(
            "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
            "policy",
            {"bucket": "b", "policyData": policy_data("roles/owner", WORKLOAD)},
        ),
    ]
    assert flagged("GCP-IAM-001", resources) == {"editor", "viewer", "owners", "policy"}


def test_no_public_grants() -> None:
    resources = [
        member(BUCKET_MEMBER, "workload", "roles/storage.objectViewer", WORKLOAD, bucket="b"),
        member(BUCKET_MEMBER, "public", "roles/storage.objectViewer", "allUsers", bucket="b"),
        res(
            "gcp:secretmanager/secretIamBinding:SecretIamBinding",
            "google-accounts",
            {"role": "roles/secretmanager.secretAccessor", "members": ["allAuthenticatedUsers"]},
        ),
    ]
    assert flagged("GCP-IAM-002", resources) == {"public", "google-accounts"}


def test_project_grants_only_without_narrower_scope() -> None:
    resources = [
        member(PROJECT_MEMBER, "invoker", INVOKER, WORKLOAD),
        member(PROJECT_MEMBER, "logs", "roles/logging.logWriter", WORKLOAD),
        member(PROJECT_MEMBER, "metrics", "roles/monitoring.metricWriter", WORKLOAD),
        member(PROJECT_MEMBER, "armor", "roles/modelarmor.user", VERTEX_AGENT),
        member(PROJECT_MEMBER, "armor-workload", "roles/modelarmor.user", WORKLOAD),
        member(PROJECT_MEMBER, "storage", "roles/storage.objectViewer", WORKLOAD),
        member(PROJECT_MEMBER, "vertex", "roles/aiplatform.user", WORKLOAD),
        member(BUCKET_MEMBER, "scoped", "roles/storage.objectViewer", WORKLOAD, bucket="b"),
    ]
    assert flagged("GCP-IAM-003", resources) == {"armor-workload", "storage", "vertex"}


def test_custom_role_permissions() -> None:
    def role(name: str, *permissions: str) -> Any:
        return res(CUSTOM_ROLE, name, {"roleId": name, "permissions": list(permissions)})

    resources = [
        role(
            "invoker",
            "aiplatform.endpoints.predict",
            "modelarmor.templates.useToSanitizeUserPrompt",
        ),
        role("wild", "aiplatform.*"),
        role("setter", "storage.buckets.setIamPolicy"),
        role("actor", "aiplatform.endpoints.predict", "iam.serviceAccounts.actAs"),
    ]
    assert flagged("GCP-IAM-004", resources) == {"wild", "setter", "actor"}


def test_no_long_lived_credentials() -> None:
    resources = [
        res(ACCOUNT, "sa", {"accountId": "workload"}),
        res("gcp:serviceaccount/key:Key", "sa-key", {"serviceAccountId": "workload"}),
        res(
            "gcp:storage/hmacKey:HmacKey",
            "hmac",
            {"serviceAccountEmail": "w@p.iam.gserviceaccount.com"},
        ),
        res("gcp:projects/apiKey:ApiKey", "api-key", {"displayName": "k"}),
    ]
    assert flagged("GCP-IAM-005", resources) == {"sa-key", "hmac", "api-key"}


def test_no_impersonation() -> None:
    resources = [
        member(
            SA_MEMBER,
            "user",
            "roles/iam.serviceAccountUser",
            "user:a@example.com",
            serviceAccountId="sa",
        ),
        member(
            SA_MEMBER,
            "token",
            "roles/iam.serviceAccountTokenCreator",
            WORKLOAD,
            serviceAccountId="sa",
        ),
        member(SA_MEMBER, "owner", "roles/owner", WORKLOAD, serviceAccountId="sa"),
        member(
            PROJECT_MEMBER, "project-wide", "roles/iam.serviceAccountUser", "group:devs@example.com"
        ),
        member(PROJECT_MEMBER, "logs", "roles/logging.logWriter", WORKLOAD),
    ]
    assert flagged("GCP-IAM-006", resources) == {"user", "token", "owner", "project-wide"}


def test_default_accounts_are_granted_nothing() -> None:
    resources = [
        member(BUCKET_MEMBER, "workload", "roles/storage.objectViewer", WORKLOAD, bucket="b"),
        member(BUCKET_MEMBER, "compute", "roles/storage.objectViewer", DEFAULT_SA, bucket="b"),
        member(
            PROJECT_MEMBER,
            "appengine",
            "roles/logging.logWriter",
            "serviceAccount:p@appspot.gserviceaccount.com",
        ),
    ]
    assert flagged("GCP-IAM-007", resources) == {"compute", "appengine"}


def test_workload_acts_as_its_own_service_account() -> None:
    account = res(ACCOUNT, "sa", {"accountId": "workload", "project": PROJECT})
    endpoint = res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {})
    own = member(BUCKET_MEMBER, "own", "roles/storage.objectViewer", WORKLOAD, bucket="b")
    agent = member(BUCKET_MEMBER, "agent", "roles/storage.objectCreator", AGENT, bucket="b")
    foreign = member(
        BUCKET_MEMBER,
        "foreign",
        "roles/storage.objectViewer",
        "serviceAccount:other@elsewhere.iam.gserviceaccount.com",
        bucket="b",
    )
    group = member(
        BUCKET_MEMBER, "group", "roles/storage.objectCreator", "group:g@example.com", bucket="b"
    )
    assert flagged("GCP-IAM-008", [account, endpoint, own, agent, group]) == set()
    assert flagged("GCP-IAM-008", [account, endpoint, own, foreign]) == {"foreign"}
    assert flagged("GCP-IAM-008", [endpoint, agent]) == {"(stack)"}  # no account of its own
    assert flagged("GCP-IAM-008", [agent]) == set()  # a stack without AI workload


@pytest.mark.parametrize(
    "policy", ["GCP-IAM-001", "GCP-IAM-002", "GCP-IAM-003", "GCP-IAM-006", "GCP-IAM-007"]
)
def test_unknown_role(policy: str) -> None:
    pending = member(PROJECT_MEMBER, "pending", UNKNOWN_STRING_VALUE, WORKLOAD)
    assert unknown(policy, [pending]) == {"pending"}


def test_unknown_permissions() -> None:
    pending = res(CUSTOM_ROLE, "pending", {"permissions": UNKNOWN_STRING_VALUE})
    assert unknown("GCP-IAM-004", [pending]) == {"pending"}


def test_unknown_member_of_a_grant_in_the_stack() -> None:
    account = res(ACCOUNT, "sa", {"accountId": "workload", "project": PROJECT})
    pending = member(BUCKET_MEMBER, "pending", "roles/storage.objectViewer", UNKNOWN_STRING_VALUE)
    assert unknown("GCP-IAM-008", [account, pending]) == {"(stack)"}


def test_an_account_may_act_as_itself_only() -> None:
    # A Vertex AI training job runs as the identity that creates it (IAM-05): the
    # training identity holds serviceAccountUser on itself, nobody else on anyone.
    training = "serviceAccount:training-app@mock-project.iam.gserviceaccount.com"
    account_id = (
        f"projects/{PROJECT}/serviceAccounts/training-app@mock-project.iam.gserviceaccount.com"
    )
    resources = [
        member(
            SA_MEMBER, "self", "roles/iam.serviceAccountUser", training, serviceAccountId=account_id
        ),
        member(
            SA_MEMBER,
            "other",
            "roles/iam.serviceAccountUser",
            WORKLOAD,
            serviceAccountId=account_id,
        ),
        member(
            SA_MEMBER,
            "self-token",
            "roles/iam.serviceAccountTokenCreator",
            training,
            serviceAccountId=account_id,
        ),
    ]
    assert flagged("GCP-IAM-006", resources) == {"other", "self-token"}


def test_storage_transfer_agent_is_a_service_agent() -> None:
    account = res(ACCOUNT, "sa", {"accountId": "workload", "project": PROJECT})
    endpoint = res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {})
    transfer = member(
        BUCKET_MEMBER,
        "transfer",
        "roles/storage.legacyBucketWriter",
        "serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com",
        bucket="replica",
    )
    assert flagged("GCP-IAM-008", [account, endpoint, transfer]) == set()
