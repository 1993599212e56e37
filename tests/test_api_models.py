"""The API model tables of aiscaffold.api_models name real types, schemas and fields."""

from __future__ import annotations

import importlib

import pytest
from aiscaffold import api_models
from aiscaffold.api_models import AWS_TYPES, GCP_TYPES, region_problem


def _pulumi_class(type_token: str) -> object:
    package, module_part, class_name = type_token.split(":")
    module_name = module_part.split("/")[0]
    module_name = {"lambda": "lambda_"}.get(module_name, module_name)  # a Python keyword
    module = importlib.import_module(f"pulumi_{package}.{module_name}")
    return getattr(module, class_name)


@pytest.mark.parametrize("token", sorted(AWS_TYPES) + sorted(GCP_TYPES))
def test_each_mapping_names_a_pulumi_class_and_an_api_model(token: str) -> None:
    assert _pulumi_class(token)
    api = (AWS_TYPES | GCP_TYPES)[token]
    # The model node resolves (the CloudFormation type exists in us-east-1, the root
    # property exists, the botocore operation or discovery schema exists).
    node, resolve = api_models._root(api, "us-east-1") or (None, None)
    assert node is not None
    assert resolve is not None
    assert api_models._properties(resolve(node), resolve), f"{api.name} has no fields"


def test_region_problem_is_silent_where_no_offering_is_known() -> None:
    assert region_problem("azure", "openai", "eastus2") is None
    assert region_problem("aws", "bedrock", "us-east-1") is None
    assert region_problem("aws", "bedrock", "xx-nowhere-1") is None
    assert region_problem("aws", "no-such-service", "af-south-1") is None


def test_region_problem_names_the_region_and_the_type() -> None:
    message = region_problem("aws", "bedrock", "af-south-1")
    assert message is not None
    assert message.startswith("region af-south-1 does not offer AWS::Bedrock::Guardrail")


@pytest.mark.parametrize(
    ("value", "schema", "fails"),
    [
        (2555.0, {"type": "integer", "enum": [1, 3, 2557]}, True),
        (2557.0, {"type": "integer", "enum": [1, 3, 2557]}, False),
        ("", {"type": "string", "enum": ["A"]}, False),  # "" is unset for the bridged providers
        ("abc", {"type": "string", "maxLength": 2}, True),
        (7.0, {"type": "integer", "minimum": 7, "maximum": 30}, False),
        (31.0, {"type": "integer", "minimum": 7, "maximum": 30}, True),
        ("7776000s", {"type": "string", "format": "google-duration"}, False),
        ("90d", {"type": "string", "format": "google-duration"}, True),
        ("a'b", {"type": "string", "pattern": "^[a-z]*$"}, True),
        ("{}", {"type": "object"}, False),  # a JSON string for an object field: other form
    ],
)
def test_scalar_domains(value: object, schema: dict[str, object], fails: bool) -> None:
    assert bool(list(api_models._scalar_problems(value, schema))) is fails
