"""Deploy rules across clouds: the models the stack calls, against their lifecycle.

A model id is not a resource: ``pulumi up`` creates the deployment (Azure) or the grant
(AWS, GCP) whatever the model's stage, and the failure comes at the first call, or
when Azure creates the deployment for a subscription that never used the model. The
rules read the stack's ``models`` and ``ai_service`` settings and the lifecycle table
of the catalog (``catalog/clouds.yaml``), whose dates come from each provider's page:

- Azure OpenAI: https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule
- Amazon Bedrock: https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html
- Vertex AI: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions

A model the catalog does not list is not judged: no finding, rather than a guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date

from ..catalog import ModelStatus, model_status
from ..policies._core import NotApplicable, Resource
from ._core import DeployContext, deploy_rule

__all__ = ["LIFECYCLE_PAGES", "configured_models"]

#: Each cloud's lifecycle page, as the rules' messages cite it (the dates themselves
#: live in the catalog, next to the same URL).
LIFECYCLE_PAGES: dict[str, str] = {
    "azure": "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule",
    "aws": "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html",
    "gcp": "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
}


def configured_models(context: DeployContext) -> list[str]:
    """The stack's ``models`` setting as a list (a JSON or YAML list, or a JSON string)."""
    value = context.config.get("models")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise NotApplicable("the stack lists no models")
    return [str(model) for model in value]


def _statuses(context: DeployContext, today: date) -> Iterator[tuple[str, ModelStatus]]:
    service = str(context.config.get("ai_service") or "")
    for model in configured_models(context):
        yield model, model_status(context.cloud, service, model, today)


def _today() -> date:
    # A function, not a constant: the same project passes today and fails once a date
    # is reached, which is the point of the rule. Tests pin it with monkeypatch.
    return date.today()


@deploy_rule(
    id="ALL-DEPLOY-001",
    title="A model the stack calls is retired",
    category="deploy-failure",
    source=LIFECYCLE_PAGES["azure"],
    error=(
        "Azure: 410 Gone (DeploymentModelNotSupported when deploying); Bedrock: "
        "ValidationException: The provided model identifier is invalid; Vertex AI: "
        "404 NOT_FOUND: Publisher Model ... was not found"
    ),
    remediation=(
        "Choose a current model (the catalog's defaults are current at release): "
        "`pulumi config set --path 'models[0]' <model>`, or update the `models` answer "
        "and run `aiscaffold update`."
    ),
)
def _model_retired(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A model in the stack's ``models`` is past the retirement (end-of-life) date its
    provider publishes: every call to it fails, and Azure refuses to deploy it."""
    for model, (status, when, source) in _statuses(context, _today()):
        if status == "retired":
            yield None, (f"model {model} was retired on {when} per {source}: calls to it fail")


@deploy_rule(
    id="ALL-DEPLOY-002",
    title="A model the stack calls is deprecated",
    category="lifecycle",
    source=LIFECYCLE_PAGES["azure"],
    error=(
        "Azure: no new customers after the deprecation date (a subscription that never "
        "deployed the version cannot deploy it); Bedrock: Legacy models are not available "
        "to new customers; Vertex AI: new access blocked one month before retirement"
    ),
    remediation=(
        "Plan the move to a current model before the retirement date: test it, then "
        "change `models` (stack config or answer)."
    ),
)
def _model_deprecated(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A model in the stack's ``models`` is past its deprecation, no-new-customers or
    Legacy date: existing users keep it until retirement, a new subscription or account
    may be refused."""
    for model, (status, when, source) in _statuses(context, _today()):
        if status == "deprecated":
            yield (
                None,
                (
                    f"model {model} is deprecated since {when} per {source}: new customers "
                    "may be refused, and it retires later"
                ),
            )
