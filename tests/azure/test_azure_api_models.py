"""Inputs of the generated Azure projects against the Azure REST API models.

The azure-mgmt-* packages are generated from the REST API specifications, like
pulumi-azure-native. Their msrest models carry per field the enum, length, pattern and
range limits of the specification, and each create call's request builder the limits of
the resource names in its URL. A value the API would reject (a storage account name with
capitals, a vault SKU that does not exist, a rule priority past 4096) fails here, not at
the first ``pulumi up``.

What the models do not carry: most numeric limits live only in a field's description
(security rule priority 100-4096: listed in ``ApiType.documented`` with the quote, see
test_documented_domains_are_quoted_by_the_model), and service rules beyond a range
(Log Analytics total retention in whole years past 730 days: the model allows 4-4383, so
2192 passes here; the deploy rule AZURE-DEPLOY-003 checks it).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from aiscaffold import api_models
from aiscaffold.api_models import (
    AZURE_TYPES,
    AZURE_UNMODELLED,
    NO_API_RESOURCE,
    ApiType,
    validate,
)
from aiscaffold.testing import MockRun

pytestmark = pytest.mark.slow

#: Types whose model comes from another API version than pulumi-azure-native 3.29 uses,
#: because no installable package ships that version's models in msrest form (with
#: ``_validation``): azure-mgmt-loganalytics 13 has 2025-07-01 only (14 is TypeSpec-built,
#: without limits); azure-mgmt-resource's 2024-03-01 comes in releases that also install
#: locks 2016-09-01 over azure-mgmt-resource-locks' 2020-05-01; azure-mgmt-monitor 6 has
#: action groups up to 2023-01-01 (7 dropped the multi-version models).
NEAREST_VERSION = {
    "azure-native:operationalinsights:Table": ("2023-09-01", "2025-07-01"),
    "azure-native:operationalinsights:Workspace": ("2023-09-01", "2025-07-01"),
    "azure-native:resources:ResourceGroup": ("2024-03-01", "2025-04-01"),
    "azure-native:monitor:ActionGroup": ("2024-10-01-preview", "2023-01-01"),
    # The training identity's custom role (issue 17): azure-mgmt-authorization ships no
    # 2022-05-01-preview role definitions; 2022-04-01 is the nearest.
    "azure-native:authorization:RoleDefinition": ("2022-05-01-preview", "2022-04-01"),
    # azure-mgmt-consumption 11 and azure-mgmt-costmanagement 5 (2024-08-01) are
    # TypeSpec-built; 10.0.0 and 4.0.1 carry the nearest msrest models.
    "azure-native:consumption:Budget": ("2024-08-01", "2021-10-01"),
    "azure-native:costmanagement:ScheduledActionByScope": ("2024-08-01", "2022-10-01"),
    "azure-native:monitor:ScheduledQueryRule": ("2025-01-01-preview", "2022-08-01-preview"),
    # The AI gateway's Front Door: azure-mgmt-cdn 13 and azure-mgmt-frontdoor 1.2 are the
    # last msrest releases (14 and 2 are TypeSpec-built, without limits).
    **{
        f"azure-native:cdn:{t}": ("2025-06-01", "2024-02-01")
        for t in (
            "Profile",
            "AFDEndpoint",
            "AFDOriginGroup",
            "AFDOrigin",
            "Route",
            "SecurityPolicy",
        )
    },
    "azure-native:frontdoor:Policy": ("2025-11-01", "2024-02-01"),
}


@dataclass
class Resource:
    """An editable copy of a captured resource (type, name, inputs)."""

    type: str
    name: str
    inputs: dict[str, Any]


def editable(run: MockRun) -> list[Resource]:
    return [Resource(r.type, r.name, copy.deepcopy(r.inputs)) for r in run.custom_resources]


def assert_valid(run: MockRun) -> None:
    result = validate("azure", run.custom_resources)
    assert not result.problems, "\n".join(map(str, result.problems))
    # A new azure-native type is checked by nothing until AZURE_TYPES maps it.
    assert not result.unknown_types
    assert not result.unmapped, sorted(result.unmapped)
    other = (
        {r.type for r in run.custom_resources}
        - AZURE_TYPES.keys()
        - NO_API_RESOURCE
        - AZURE_UNMODELLED
    )
    assert not other, f"types neither mapped, unmodelled nor known to make no API call: {other}"


# ---------------------------------------------------------------- whole projects
@pytest.mark.parametrize(
    "variant",
    ["defaults", "restricted-hipaa-gdpr", "internal-soc2", "gateway-private", "gateway-public"],
)
def test_every_generated_project_is_inside_the_api_domain(
    runs: dict[str, MockRun], variant: str
) -> None:
    assert_valid(runs[variant])


def test_the_components_with_every_option_are_inside_the_api_domain(
    default_run: MockRun, azure_run: Any
) -> None:
    # The components' own composition registers the app secrets; the egress option adds
    # the NAT gateway and its public IP. Both must validate too.
    egress = azure_run(network={"allow_internet_egress": True})
    registered = {r.type for r in default_run.custom_resources} | {
        r.type for r in egress.custom_resources
    }
    assert {
        "azure-native:keyvault:Secret",
        "azure-native:network:NatGateway",
        "azure-native:network:PublicIPAddress",
    } <= registered
    assert_valid(default_run)
    assert_valid(egress)


def test_the_inputs_that_matter_are_checked(runs: dict[str, MockRun]) -> None:
    checked = validate("azure", runs["restricted-hipaa-gdpr"].custom_resources).checked
    for expected in [
        ("azure-native:storage:StorageAccount", "accountName"),
        ("azure-native:storage:StorageAccount", "sku.name"),
        ("azure-native:storage:StorageAccount", "minimumTlsVersion"),
        ("azure-native:storage:StorageAccount", "enableHttpsTrafficOnly"),
        ("azure-native:storage:StorageAccount", "networkRuleSet.defaultAction"),
        ("azure-native:storage:BlobServiceProperties", "deleteRetentionPolicy.days"),
        ("azure-native:keyvault:Vault", "vaultName"),
        ("azure-native:keyvault:Vault", "properties.sku.name"),
        ("azure-native:keyvault:Key", "properties.kty"),
        ("azure-native:keyvault:Key", "properties.attributes.expires"),
        ("azure-native:network:NetworkSecurityGroup", "securityRules.priority"),
        ("azure-native:network:NetworkSecurityGroup", "securityRules.protocol"),
        ("azure-native:operationalinsights:Table", "totalRetentionInDays"),
        ("azure-native:operationalinsights:Workspace", "sku.name"),
        ("azure-native:cognitiveservices:RaiPolicy", "properties.mode"),
        ("azure-native:cognitiveservices:RaiPolicy", "properties.contentFilters.source"),
        ("azure-native:cognitiveservices:Account", "accountName"),
        ("azure-native:monitor:DiagnosticSetting", "logs.categoryGroup"),
    ]:
        assert expected in checked


# ----------------------------------------------------------------- known-bad values
def _set(inputs: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[0].c`` in nested inputs."""
    steps = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    target: Any = inputs
    for step in steps[:-1]:
        target = target[int(step[1:-1])] if step.startswith("[") else target[step]
    last = steps[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value


@pytest.mark.parametrize(
    ("type_", "path", "value", "says"),
    [
        # "AccountNameInvalid: ... is not a valid storage account name. Storage account
        # name must be between 3 and 24 characters in length and use numbers and
        # lower-case letters only." (pulumi/templates#274)
        ("azure-native:storage:StorageAccount", "accountName", "StAzDefaults", "pattern"),
        ("azure-native:storage:StorageAccount", "minimumTlsVersion", "TLS1_4", "not one of"),
        ("azure-native:keyvault:Vault", "properties.sku.name", "basic", "not one of"),
        # "VaultNameNotValid: The vault name '...' is invalid. A vault's name must be
        # between 3-24 alphanumeric characters." (e.g. Azure/AI-in-a-Box#104)
        ("azure-native:keyvault:Vault", "vaultName", "kv-" + "x" * 22, "pattern"),
        ("azure-native:keyvault:Key", "properties.kty", "RSA-4096", "not one of"),
        # 2024-05-01: "The value can be between 100 and 4096" (documented, not in the model)
        (
            "azure-native:network:NetworkSecurityGroup",
            "securityRules[0].priority",
            5000.0,
            "above the maximum 4096",
        ),
        ("azure-native:operationalinsights:Table", "totalRetentionInDays", 4384.0, "maximum"),
        ("azure-native:operationalinsights:Workspace", "sku.name", "PerGB2019", "not one of"),
        (
            "azure-native:storage:BlobServiceProperties",
            "deleteRetentionPolicy.days",
            366.0,
            "above the maximum 365",
        ),
        (
            "azure-native:cognitiveservices:RaiPolicy",
            "properties.contentFilters[0].source",
            "Response",
            "not one of",
        ),
    ],
)
def test_a_value_the_api_rejects_is_reported(
    runs: dict[str, MockRun], type_: str, path: str, value: Any, says: str
) -> None:
    resources = editable(runs["restricted-hipaa-gdpr"])
    target = next(r for r in resources if r.type == type_)
    _set(target.inputs, path, value)

    problems = validate("azure", resources).problems

    assert {(p.type, p.name, p.path) for p in problems} == {(type_, target.name, path)}
    assert says in problems[0].message
    assert problems[0].source.startswith("https://learn.microsoft.com/rest/api/")


def test_what_the_models_do_not_carry_passes(runs: dict[str, MockRun]) -> None:
    resources = editable(runs["restricted-hipaa-gdpr"])
    table = next(r for r in resources if r.type == "azure-native:operationalinsights:Table")
    # Past 730 days Log Analytics takes whole years only (1095, 1460, ... 2191, 2556):
    # documented, not in the model's 4-4383 (AZURE-DEPLOY-003 checks it).
    table.inputs["totalRetentionInDays"] = 2192.0
    vault = next(r for r in resources if r.type == "azure-native:keyvault:Vault")
    # Enums compare without case, as the SDKs' CaseInsensitiveEnumMeta does.
    vault.inputs["properties"]["sku"]["name"] = "Premium"

    assert not validate("azure", resources).problems


# -------------------------------------------------------------------- the table
def _pulumi_source(token: str) -> str:
    _, module, name = token.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return Path(inspect.getfile(cls)).read_text(encoding="utf-8")


@pytest.mark.parametrize("token", sorted(AZURE_TYPES))
def test_each_mapping_names_the_model_of_the_api_version_azure_native_uses(token: str) -> None:
    api = AZURE_TYPES[token]
    used = re.search(r"Uses Azure REST API version ([\w-]+)\.", _pulumi_source(token))
    assert used, token
    assert (used.group(1), api.version) in {(api.version, api.version), NEAREST_VERSION.get(token)}

    package, model = api.name.split(":")
    body = getattr(importlib.import_module(f"{package}.models"), model)
    # msrest form (limits in _validation), not a TypeSpec model without them
    assert hasattr(body, "_attribute_map") and hasattr(body, "_validation")
    module, function = api.request.split(":")
    builder = inspect.getsource(getattr(importlib.import_module(f"{package}.{module}"), function))
    # the builder sends that version (older generators quote the key with ')
    assert re.search(f'["\']api-version["\'], "{api.version}"', builder)

    node, resolve = api_models._root(api, "") or (None, None)
    assert node is not None and resolve is not None
    fields = api_models._properties(resolve(node), resolve)
    url = api_models._azure_url_parameters(package, api.request)
    assert url and set(url) <= set(fields)  # the names in the URL are checked as inputs


def test_documented_domains_are_quoted_by_the_model() -> None:
    """Each ``documented`` domain is stated in the field's description in the SDK model."""
    documented = [(t, a, p, d) for t, a in AZURE_TYPES.items() for p, d in a.documented.items()]
    assert documented
    for token, api, path, domain in documented:
        description = _field_description(api, path)
        for bound in ("minimum", "maximum"):
            if bound in domain:
                assert str(domain[bound]) in description, (token, path, description)


def _field_description(api: ApiType, path: str) -> str:
    package, model = api.name.split(":")
    models = importlib.import_module(f"{package}.models")
    cls: Any = getattr(models, model)
    *parents, leaf = path.split(".")
    for step in parents:
        attribute = _attribute(cls, step)
        wire = cls._attribute_map[attribute]["type"].strip("[]{}")
        cls = getattr(models, wire)
    attribute = _attribute(cls, leaf)
    match = re.search(rf":ivar {attribute}:(.*?):vartype", cls.__doc__ or "", re.S)
    assert match, (cls, attribute)
    return " ".join(match.group(1).split())


def _attribute(cls: Any, camel: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    assert snake in cls._attribute_map, (cls, camel)
    return snake


def test_enums_come_from_the_sdk_enum_classes() -> None:
    # The enum of a field is the SDK's enum class named in __init__'s annotation.
    api = AZURE_TYPES["azure-native:storage:StorageAccount"]
    package, model = api.name.split(":")
    models = importlib.import_module(f"{package}.models")
    resolve = api_models._azure_resolver(package)
    fields = api_models._properties(resolve({"$model": getattr(models, model)}), resolve)
    expected = models.MinimumTlsVersion
    assert issubclass(expected, Enum)
    field = fields[api_models._match("minimumTlsVersion", fields, None) or ""]
    assert field["enum"] == [m.value for m in expected]
    assert field["x-key"] == "properties.minimumTlsVersion"


@pytest.mark.parametrize(
    ("value", "schema", "fails"),
    [
        ("premium", {"type": "string", "enum": ["standard", "premium"]}, False),
        ("PREMIUM", {"type": "string", "enum": ["standard", "premium"]}, False),
        ("basic", {"type": "string", "enum": ["standard", "premium"]}, True),
        (30.0, {"type": "integer", "multipleOf": 1}, False),
        (30.5, {"type": "integer", "multipleOf": 1}, True),
        ("abc", {"type": "string", "pattern": "^[a-z0-9]+$"}, False),
        ("aBc", {"type": "string", "pattern": "^[a-z0-9]+$"}, True),
    ],
)
def test_azure_scalar_domains(value: object, schema: dict[str, Any], fails: bool) -> None:
    assert bool(list(api_models._azure_scalar_problems(value, schema))) is fails


def test_types_mapped_ahead_of_their_components_validate() -> None:
    # Alerting and CI-identity types no generated program registers yet, with inputs as
    # azure-native takes them: a polymorphic model (the metric alert's criteria, by
    # odata.type) offers its subtypes' fields, and an action group's short name is
    # limited to 12 characters (the model's max_length).
    resources = [
        Resource(
            "azure-native:monitor:MetricAlert",
            "availability",
            {
                "ruleName": "availability",
                "resourceGroupName": "rg-app",
                "location": "global",
                "severity": 2.0,
                "enabled": True,
                "scopes": ["/subscriptions/0/resourceGroups/rg-app"],
                "evaluationFrequency": "PT1M",
                "windowSize": "PT5M",
                "criteria": {
                    "odataType": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    "allOf": [
                        {
                            "criterionType": "StaticThresholdCriterion",
                            "name": "availability",
                            "metricName": "Availability",
                            "operator": "LessThan",
                            "threshold": 99.0,
                            "timeAggregation": "Average",
                        }
                    ],
                },
            },
        ),
        Resource(
            "azure-native:monitor:ActionGroup",
            "alerts",
            {
                "actionGroupName": "ag-app",
                "resourceGroupName": "rg-app",
                "location": "Global",
                "groupShortName": "security-alerts",
                "enabled": True,
                "emailReceivers": [{"name": "secops", "emailAddress": "secops@example.com"}],
            },
        ),
    ]

    result = validate("azure", resources)

    assert not result.unmapped, sorted(result.unmapped)
    assert ("azure-native:monitor:MetricAlert", "criteria.allOf.operator") in result.checked
    assert [(p.name, p.path) for p in result.problems] == [("alerts", "groupShortName")]
    assert "longer than 12 characters" in result.problems[0].message
