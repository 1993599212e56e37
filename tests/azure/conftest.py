"""Fixtures of the Azure tests: the components composed as a project would, under mocks.

``azure_run(**overrides)`` composes every Azure component with their secure defaults
and returns the mock run; ``overrides`` maps a component (network, keys, storage,
openai, guardrail, identity, alerts, audit, flow_logs, alarms, detection, cost) to extra
arguments of its ``Args``
(``audit={"flow_logs": None}`` drops the flow logs). Runs are cached for the session:
each distinct set of overrides runs once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest
from aiscaffold.testing import CapturedResource, MockRun, run, run_program

PROJECT, STACK, LOCATION = "proj", "dev", "eastus2"
TAGS = {
    "project": PROJECT,
    "stack": STACK,
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "soc2",
}
DENIED_TERMS = ("investment advice", "legal advice")
SECRET_ROTATED_ON = dt.date(2025, 1, 31)
KEYS_CREATED_ON = dt.date(2025, 3, 1)
ALERT_EMAILS = ("secops@example.com",)
MONTHLY_BUDGET = 1000
BUDGET_START = dt.date(2025, 3, 1)

AzureRun = Callable[..., MockRun]


def compose(overrides: dict[str, dict[str, Any]]) -> None:
    """The Azure components wired like the generated program, secure defaults."""
    from aiscaffold_components.azure import (
        AlertChannel,
        AlertChannelArgs,
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
        Secrets,
        SecretsArgs,
        SecureStorage,
        SecureStorageArgs,
        SecurityAlarms,
        SecurityAlarmsArgs,
        ThreatDetection,
        ThreatDetectionArgs,
        WorkloadIdentity,
        WorkloadIdentityArgs,
    )

    def extra(component: str) -> dict[str, Any]:
        return overrides.get(component, {})

    network = Network("network", NetworkArgs(location=LOCATION, tags=TAGS, **extra("network")))
    group = network.resource_group_name
    keys = Keys(
        "keys",
        KeysArgs(
            resource_group_name=group,
            location=LOCATION,
            tags=TAGS,
            **{"created_on": KEYS_CREATED_ON, **extra("keys")},
        ),
    )
    data = SecureStorage(
        "data",
        SecureStorageArgs(
            resource_group_name=group,
            location=LOCATION,
            cmk=keys.cmk("data"),
            tags=TAGS,
            **extra("storage"),
        ),
    )
    deployments = [
        ModelDeployment.parse("gpt-4o:2024-11-20"),
        ModelDeployment.parse("text-embedding-3-large:1", capacity=20),
    ]
    openai = OpenAIAccount(
        "openai",
        OpenAIAccountArgs(
            resource_group_name=group,
            location=LOCATION,
            cmk=keys.cmk("ai"),
            tags=TAGS,
            guardrail=GuardrailArgs(
                denied_terms=DENIED_TERMS,
                pii_entities=("email", "us-ssn", "name"),
                tags=TAGS,
                **extra("guardrail"),
            ),
            **{"deployments": deployments, **extra("openai")},
        ),
    )
    workload = WorkloadIdentity(
        "workload",
        WorkloadIdentityArgs(
            resource_group_name=group,
            location=LOCATION,
            tags=TAGS,
            openai_account_id=openai.account_id,
            key_vault_id=keys.vault_id,
            data_container_ids=list(data.container_ids.values()),
            **extra("identity"),
        ),
    )
    alerts = AlertChannel(
        "alerts",
        AlertChannelArgs(
            resource_group_name=group,
            name_prefix=f"{PROJECT}-{STACK}",
            tags=TAGS,
            emails=ALERT_EMAILS,
            **extra("alerts"),
        ),
    )
    secrets = Secrets(
        "secrets",
        SecretsArgs(
            resource_group_name=group,
            vault_name=keys.vault_name,
            vault_id=keys.vault_id,
            location=LOCATION,
            tags=TAGS,
            expiry_days=90,
            **{"expiry_action_group_id": alerts.action_group_id, **extra("secrets")},
            secrets={
                "search-api-key": AppSecret(
                    value=pulumi.Output.secret("s3cret-value"),
                    rotated_on=SECRET_ROTATED_ON,
                )
            },
        ),
    )
    audit = AuditLogging(
        "audit",
        AuditLoggingArgs(
            resource_group_name=group,
            location=LOCATION,
            cmk=keys.cmk("logs"),
            tags=TAGS,
            diagnostic_targets=[
                *network.diagnostic_targets,
                *keys.diagnostic_targets,
                *data.diagnostic_targets,
                *openai.diagnostic_targets,
                *secrets.diagnostic_targets,
            ],
            **{
                "retention_days": 365,
                "flow_logs": FlowLogArgs(vnet_id=network.vnet_id, **extra("flow_logs")),
                **extra("audit"),
            },
        ),
    )
    PrivateEndpoints(
        "endpoints",
        PrivateEndpointsArgs(
            resource_group_name=group,
            location=LOCATION,
            tags=TAGS,
            vnet_id=network.vnet_id,
            subnet_id=network.private_endpoint_subnet_id,
            targets=[
                openai.private_link,
                keys.private_link,
                data.private_link,
                *audit.private_links,
            ],
        ),
    )
    # Detection and response, and cost guardrails, as the program composes them for a
    # stack owning its subscription's services (account_services: this-stack).
    SecurityAlarms(
        "alarms",
        SecurityAlarmsArgs(
            resource_group_name=group,
            resource_group_id=network.resource_group_id,
            location=LOCATION,
            name_prefix=f"{PROJECT}-{STACK}",
            action_group_id=alerts.action_group_id,
            workspace_id=audit.workspace_id,
            ai_account_ids=[openai.account_id],
            secret_reader_ids=[workload.principal_id],
            tags=TAGS,
            **extra("alarms"),
        ),
    )
    ThreatDetection(
        "detection",
        ThreatDetectionArgs(
            resource_group_name=group,
            resource_group_id=network.resource_group_id,
            name_prefix=f"{PROJECT}-{STACK}",
            action_group_id=alerts.action_group_id,
            emails=ALERT_EMAILS,
            tags=TAGS,
            **extra("detection"),
        ),
    )
    CostGuardrails(
        "cost",
        CostGuardrailsArgs(
            resource_group_id=network.resource_group_id,
            name_prefix=f"{PROJECT}-{STACK}",
            action_group_id=alerts.action_group_id,
            **{
                "monthly_budget": MONTHLY_BUDGET,
                "start_date": BUDGET_START,
                "anomaly_window_start": BUDGET_START,
                "emails": ALERT_EMAILS,
                "location": LOCATION,
                "deployments": deployments,
                **extra("cost"),
            },
        ),
    )


@pytest.fixture(scope="session")
def azure_run() -> AzureRun:
    """Run :func:`compose` with per-component overrides, once per distinct overrides."""
    cache: dict[str, MockRun] = {}

    def get(**overrides: dict[str, Any]) -> MockRun:
        key = json.dumps(overrides, sort_keys=True, default=str)
        if key not in cache:
            cache[key] = run(
                lambda: compose(overrides),
                project=PROJECT,
                stack=STACK,
                config={"azure-native:location": LOCATION},
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def default_run(azure_run: AzureRun) -> MockRun:
    return azure_run()


# ----------------------------------------------------------------- comparing runs
def _key(item: dict[str, Any]) -> str:
    return "/".join(str(item[k]) for k in ("name", "source") if k in item)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Inputs as ``path -> leaf``; lists of named items (rules, filters) keyed by name."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if (
        isinstance(value, list)
        and value
        and all(isinstance(i, dict) and "name" in i for i in value)
    ):
        out = {}
        for item in value:
            out.update(flatten(item, f"{prefix}[{_key(item)}]"))
        return out
    if isinstance(value, list):
        if not value:
            return {prefix: []}
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def diff(before: MockRun, after: MockRun) -> dict[str, set[str]]:
    """What changed between two runs: ``{"+": added, "-": removed, name: paths}``.

    Resources are matched by type and name; ``paths`` are the flattened input paths
    whose values differ (present on one side only, or different).
    """
    old = {(r.type, r.name): r for r in before.custom_resources}
    new = {(r.type, r.name): r for r in after.custom_resources}
    changes: dict[str, set[str]] = {}
    added = {f"{t}/{n}" for t, n in new.keys() - old.keys()}
    removed = {f"{t}/{n}" for t, n in old.keys() - new.keys()}
    if added:
        changes["+"] = added
    if removed:
        changes["-"] = removed
    for key in old.keys() & new.keys():
        a, b = flatten(old[key].inputs), flatten(new[key].inputs)
        paths = {p for p in a.keys() | b.keys() if a.get(p, _MISSING) != b.get(p, _MISSING)}
        if paths:
            changes[key[1]] = paths
    return changes


_MISSING = object()

_RESOURCE_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+", re.IGNORECASE
)


def is_resource_id(scope: str) -> bool:
    """Whether ``scope`` names a resource (not a subscription or resource group)."""
    return bool(_RESOURCE_ID.match(scope))


def by_name(resources: list[CapturedResource]) -> dict[str, CapturedResource]:
    return {r.name: r for r in resources}


@pytest.fixture(scope="session")
def az() -> SimpleNamespace:
    """Helpers and constants of the Azure tests (conftest modules are not importable)."""
    return SimpleNamespace(
        diff=diff,
        flatten=flatten,
        is_resource_id=is_resource_id,
        by_name=by_name,
        PROJECT=PROJECT,
        STACK=STACK,
        LOCATION=LOCATION,
        TAGS=TAGS,
        DENIED_TERMS=DENIED_TERMS,
        SECRET_ROTATED_ON=SECRET_ROTATED_ON,
        KEYS_CREATED_ON=KEYS_CREATED_ON,
    )


# ------------------------------------------------------- generated Azure projects
@pytest.fixture(scope="session")
def projects(render_project: Any) -> dict[str, Path]:
    """The generated projects of ``azure_support.VARIANTS``, rendered once per session."""
    from azure.azure_support import VARIANTS

    return {
        name: render_project(cloud="azure", project_name=f"az-{name}"[:30], **answers)
        for name, answers in VARIANTS.items()
    }


@pytest.fixture(scope="session")
def runs(projects: dict[str, Path]) -> dict[str, MockRun]:
    """Their programs under the mocks, run once per session."""
    return {name: run_program(path) for name, path in projects.items()}
