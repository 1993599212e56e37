"""Bedrock: a guardrail screens every model call, and model invocations are logged.

Policies no peer has: the guardrail's filters at the profile's strength (prompt attacks
HIGH on input), the workload allowed to invoke only models and only through its pinned
guardrail, model invocation logging configured (without prompt text for confidential
data) and delivered where Bedrock may write.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    as_list,
    bedrock_invoke_actions,
    bucket_refers_to,
    conditions,
    content_filter_types,
    document,
    of_type,
    pii_entity_types,
    principals,
    statements,
    training_actions,
)
from .iam import IDENTITY_POLICIES, deploys_workload
from .s3 import BUCKET_POLICY, BUCKETS, companions

GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
GUARDRAIL_VERSION = "aws:bedrock/guardrailVersion:GuardrailVersion"
INVOCATION_LOGGING = (
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
)

STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
_MODEL_ARN = re.compile(
    r"arn:[a-z-]+:bedrock:[^:]*:[^:]*:"
    r"(foundation-model|inference-profile|application-inference-profile|provisioned-model"
    r"|custom-model|imported-model)/.+"
)
_GUARDRAIL_ARN = re.compile(r"arn:[a-z-]+:bedrock:[^:]+:[0-9]+:guardrail/[a-z0-9]+")
_PINNED_GUARDRAIL = re.compile(_GUARDRAIL_ARN.pattern + r":[0-9]+")
#: Embedding models return vectors, which guardrails do not screen: the only models a
#: workload may invoke without its guardrail.
_EMBEDDING = re.compile(r"embed", re.IGNORECASE)


def _filters(resource: Resource) -> dict[str, Mapping[str, Any]]:
    return {
        str(f.get("type")): f
        for f in resource.items("contentPolicyConfig", "filtersConfigs")
        if isinstance(f, Mapping)
    }


def _weaker(strength: Any, required: str) -> bool:
    value = str(strength or "NONE").upper()
    return value not in STRENGTHS or STRENGTHS.index(value) < STRENGTHS.index(required)


def _screens(config: Mapping[str, Any], side: str) -> bool:
    """The filter acts on prompts (``input``) or answers (``output``): enabled, blocking."""
    return config.get(f"{side}Enabled", True) is not False and config.get(
        f"{side}Action", "BLOCK"
    ) in ("BLOCK", None)


@resource_policy(
    id="AWS-BEDROCK-001",
    title="Guardrail content filters at the profile's strength",
    severity="high",
    types=[GUARDRAIL],
    controls=["AI-01"],
    remediation="Filter HATE, INSULTS, SEXUAL, VIOLENCE and MISCONDUCT on prompts and answers "
    "at the stack's content_filter_strength or stronger, blocking (Guardrail does).",
)
def content_filters(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Hate, insults, sexual content, violence and misconduct are filtered in prompts and
    in answers, blocking, at least at the profile's ``content_filter_strength``."""
    required = requirements.setting("content_filter_strength")
    filters = _filters(resource)
    for kind in content_filter_types():
        config = filters.get(kind)
        if config is None:
            yield f"{resource.name} does not filter {kind}"
            continue
        for side in ("input", "output"):
            strength = config.get(f"{side}Strength")
            if _weaker(strength, required) or not _screens(config, side):
                yield f"{resource.name} filters {kind} {side} at {strength}; the profile asks for {required}, blocking"


@resource_policy(
    id="AWS-BEDROCK-002",
    title="Guardrail blocks prompt attacks at HIGH on input",
    severity="critical",
    types=[GUARDRAIL],
    controls=["AI-02"],
    remediation='Add the PROMPT_ATTACK filter with input_strength "HIGH" (Guardrail does unless '
    "prompt_attack_strength is lowered).",
)
def prompt_attack(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Prompts are screened for jailbreaks and prompt injection at the highest strength,
    blocking."""
    config = _filters(resource).get("PROMPT_ATTACK")
    if config is None:
        yield f"{resource.name} does not screen prompts for attacks"
    elif _weaker(config.get("inputStrength"), "HIGH") or not _screens(config, "input"):
        yield f"{resource.name} screens prompt attacks at {config.get('inputStrength')}, not HIGH"


@resource_policy(
    id="AWS-BEDROCK-003",
    title="Guardrail blocks or masks the profile's PII",
    severity="high",
    types=[GUARDRAIL],
    controls=["AI-03"],
    remediation="Add the profile's pii_entities (PII_ENTITY_TYPES) with action BLOCK or "
    "ANONYMIZE (Guardrail does).",
)
def sensitive_information(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every PII entity type the profile's ``pii_entities`` selects is blocked or masked in
    prompts and answers."""
    mapping = pii_entity_types()
    required = {t for e in requirements.setting("pii_entities") for t in mapping.get(e, ())}
    configured: dict[str, Mapping[str, Any]] = {
        str(c.get("type")): c
        for c in resource.items("sensitiveInformationPolicyConfig", "piiEntitiesConfigs")
        if isinstance(c, Mapping)
    }
    missing = sorted(required - set(configured))
    if missing:
        yield f"{resource.name} does not detect {', '.join(missing)}"
    for kind in sorted(required & set(configured)):
        config = configured[kind]
        acting = config.get("action") in ("BLOCK", "ANONYMIZE") and all(
            config.get(f"{side}Enabled", True) is not False
            and config.get(f"{side}Action", "BLOCK") in ("BLOCK", "ANONYMIZE")
            for side in ("input", "output")
        )
        if not acting:
            yield f"{resource.name} only detects {kind}: block or anonymize it"


def _topic_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())[:100]


@resource_policy(
    id="AWS-BEDROCK-004",
    title="Guardrail denies the answered topics and profanity",
    severity="medium",
    types=[GUARDRAIL],
    controls=["AI-04"],
    remediation="Add a DENY topic for each of the answers' guardrail_denied_topics and the "
    "PROFANITY managed word list (Guardrail does unless profanity_filter=False).",
)
def denied_topics(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Each topic answered in ``guardrail_denied_topics`` is a DENY topic of the guardrail,
    and the managed profanity word list is on."""
    topics = {
        _topic_key(str(t.get("name", "")))
        for t in resource.items("topicPolicyConfig", "topicsConfigs")
        if isinstance(t, Mapping) and t.get("type", "DENY") == "DENY"
    }
    for topic in requirements.guardrail_denied_topics:
        if _topic_key(topic) not in topics:
            yield f"{resource.name} does not deny the topic {topic!r}"
    lists = {
        str(w.get("type"))
        for w in resource.items("wordPolicyConfig", "managedWordListsConfigs")
        if isinstance(w, Mapping)
    }
    if "PROFANITY" not in lists:
        yield f"{resource.name} has no profanity filter"


@resource_policy(
    id="AWS-BEDROCK-005",
    title="Guardrail encrypted with a project key",
    severity="medium",
    types=[GUARDRAIL],
    controls=["KEY-01"],
    remediation="Set kms_key_arn to the project's data key.",
)
def guardrail_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The guardrail's configuration (denied topics, words) is encrypted with the project's
    data key."""
    if not resource.get("kmsKeyArn"):
        yield f"{resource.name} is not encrypted with a project key"


def _guardrail_identity(guardrail: Resource) -> list[str]:
    found = (guardrail.get("guardrailArn"), guardrail.get("arn"), guardrail.get("guardrailId"))
    return [v for v in found if isinstance(v, str) and v]


@stack_policy(
    id="AWS-BEDROCK-006",
    title="A guardrail with a published version exists",
    severity="high",
    controls=["AI-05"],
    remediation="Create the guardrail and its version with the Guardrail component and pin "
    "the workload to the version.",
)
def guardrail_published(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stack deploying the workload has a guardrail and a numbered (immutable) version of
    it for the workload to name; a DRAFT can change under the workload's feet."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    guardrails = of_type(resources, GUARDRAIL)
    if not guardrails:
        yield None, "the stack has no Bedrock guardrail"
        return
    versions = [
        str(v.get("guardrailArn"))
        for v in of_type(resources, GUARDRAIL_VERSION)
        if v.get("guardrailArn")
    ]
    for guardrail in guardrails:
        identity = _guardrail_identity(guardrail)
        # Matched by ARN or id where the view has them; otherwise any version will do.
        published = any(i in v for v in versions for i in identity) if identity else bool(versions)
        if not published:
            yield guardrail, f"{guardrail.name} has no published version"


def _logging(resource: Resource, *path: str) -> Any:
    return resource.get("loggingConfig", *path)


@resource_policy(
    id="AWS-BEDROCK-007",
    title="Model invocations logged to CloudWatch Logs and S3",
    severity="high",
    types=[INVOCATION_LOGGING],
    controls=["LOG-05"],
    remediation="Configure invocation logging with a cloudwatch_config (log group, role, "
    "large-data bucket) and an s3_config (AuditLogging bedrock_invocation_logging=True).",
)
def invocation_logging(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Model invocations are delivered to an encrypted log group (with a delivery role and
    a bucket for records too large for CloudWatch) and to the log bucket."""
    if not _logging(resource, "cloudwatchConfig", "logGroupName") or not _logging(
        resource, "cloudwatchConfig", "roleArn"
    ):
        yield f"{resource.name} does not deliver to a CloudWatch log group"
    elif not _logging(resource, "cloudwatchConfig", "largeDataDeliveryS3Config", "bucketName"):
        yield f"{resource.name} drops records too large for CloudWatch Logs (no large-data bucket)"
    if not _logging(resource, "s3Config", "bucketName"):
        yield f"{resource.name} does not deliver to the log bucket"


_DATA_FLAGS = {
    "textDataDeliveryEnabled": "prompts and completions",
    "imageDataDeliveryEnabled": "images",
    "embeddingDataDeliveryEnabled": "embeddings",
    "videoDataDeliveryEnabled": "video",
}


@resource_policy(
    id="AWS-BEDROCK-008",
    title="Invocation logs hold no confidential prompts",
    severity="high",
    types=[INVOCATION_LOGGING],
    controls=["LOG-05", "AI-03"],
    remediation="Set text_data_delivery_enabled, image_data_delivery_enabled, "
    "embedding_data_delivery_enabled and video_data_delivery_enabled to False (they default "
    "to True).",
)
def metadata_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """For confidential and restricted data, invocation logs carry metadata (caller, model,
    tokens, guardrail outcome), not the prompts, answers, images or embeddings, which
    would otherwise land in long-lived logs. Bedrock logs them unless told not to."""
    if requirements.data_sensitivity in ("public", "internal"):
        raise NotApplicable(f"{requirements.data_sensitivity} data may be logged in full")
    for flag, what in _DATA_FLAGS.items():
        if _logging(resource, flag) is not False:
            yield f"{resource.name} logs {what} of {requirements.data_sensitivity} data"


@stack_policy(
    id="AWS-BEDROCK-009",
    title="Model invocation logging configured for Bedrock projects",
    severity="high",
    controls=["LOG-05"],
    remediation="Enable it with AuditLogging bedrock_invocation_logging=True (answer "
    "account_services: this-stack), or have the stack that owns the account's services "
    "configure it (account_services: shared).",
)
def invocation_logging_present(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A project whose AI service is Bedrock configures model invocation logging (one
    configuration per account and region), unless the account's services belong to
    another stack or a central team (``account_services: shared``), which then owns it;
    the configuration names where the logs go."""
    if requirements.ai_service != "bedrock":
        raise NotApplicable(f"the AI service is {requirements.ai_service}")
    if requirements.account_services == "shared":
        raise NotApplicable(
            "the account's services are shared: the stack owning them configures invocation "
            "logging for the account and region"
        )
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    configs = of_type(resources, INVOCATION_LOGGING)
    if not configs:
        yield None, "Bedrock model invocations are not logged"
    # A configuration is judged by what it configures, not by its presence alone.
    for config in configs:
        if not config.get("loggingConfig"):
            yield config, f"{config.name} configures no destination for invocation logs"


def _writable(bucket_name: str, prefix: str, policy: Resource) -> bool:
    key = f"{bucket_name}/{prefix.strip('/') + '/' if prefix.strip('/') else ''}AWSLogs/x"
    for st in statements(document(policy, "policy"), "Allow"):
        if "bedrock.amazonaws.com" not in principals(st).get("Service", []):
            continue
        if not {a.lower() for a in actions(st)} & {"s3:putobject", "s3:*"}:
            continue
        for pattern in as_list(st.get("Resource")):
            if fnmatch.fnmatchcase(key, str(pattern).split(":::", 1)[-1]):
                return True
    return False


@stack_policy(
    id="AWS-BEDROCK-010",
    title="Invocation logs land where Bedrock may write",
    severity="medium",
    controls=["LOG-05"],
    remediation="Deliver under the prefix the log bucket's policy grants bedrock.amazonaws.com "
    "(AuditLogging keeps both in step).",
)
def invocation_logs_deliverable(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each S3 destination of invocation logging is a key prefix the bucket's policy lets
    Bedrock write to; otherwise the records are silently lost. Buckets outside the stack
    are not judged."""
    for config in of_type(resources, INVOCATION_LOGGING):
        destinations = [
            ("s3Config",),
            ("cloudwatchConfig", "largeDataDeliveryS3Config"),
        ]
        for path in destinations:
            name = _logging(config, *path, "bucketName")
            if not name:
                continue
            prefix = str(_logging(config, *path, "keyPrefix") or "")
            buckets = [b for b in of_type(resources, *BUCKETS) if bucket_refers_to(name, b)]
            if not buckets:
                continue
            policies = [p for b in buckets for p in companions(b, resources, [BUCKET_POLICY])]
            if not any(_writable(str(name), prefix, p) for p in policies):
                where = f"{name}/{prefix}" if prefix else str(name)
                yield config, f"{config.name} delivers to {where}, where Bedrock may not write"


def _invoke_findings(name: str, st: Mapping[str, Any], sid: str) -> Iterator[str]:
    resources = [str(r) for r in as_list(st.get("Resource"))]
    not_models = [r for r in resources if not _MODEL_ARN.fullmatch(r)]
    if not_models:
        yield f"{name} statement {sid} invokes {', '.join(not_models)}, not named models"
    pinned = [
        v
        for v in conditions(st).get("StringEquals", {}).get("bedrock:guardrailidentifier", [])
        if _PINNED_GUARDRAIL.fullmatch(v)
    ]
    if pinned:
        return
    unguarded = [r for r in resources if not _EMBEDDING.search(r.rsplit("/", 1)[-1])]
    if unguarded:
        yield (
            f"{name} statement {sid} invokes {', '.join(unguarded)} without a pinned guardrail "
            "(bedrock:GuardrailIdentifier with a version)"
        )


@resource_policy(
    id="AWS-BEDROCK-011",
    title="The workload invokes only models, only through its pinned guardrail",
    severity="critical",
    types=IDENTITY_POLICIES,
    controls=["AI-05"],
    remediation="Grant bedrock:InvokeModel* on named model ARNs with StringEquals "
    "bedrock:GuardrailIdentifier <guardrail ARN>:<version>, and bedrock:ApplyGuardrail on the "
    "guardrail (WorkloadIdentity does); no other Bedrock action.",
)
def guarded_invocation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Bedrock permissions are limited to invoking named models with the guardrail pinned
    by ``bedrock:GuardrailIdentifier`` (embedding models excepted: guardrails do not screen
    vectors) and applying that guardrail; no other Bedrock action, except the model
    customization jobs of a training identity, whose policy invokes no model (IAM-05)."""
    invoke = {a.lower() for a in bedrock_invoke_actions()}
    allowed = statements(document(resource, "policy"), "Allow")
    # The training identity (IAM-05) runs model customization jobs and invokes no model:
    # its policy may hold those actions, and only a policy without any invocation.
    invokes = any(invoke & {a.lower() for a in actions(st)} for st in allowed)
    training = set() if invokes else {a.lower() for a in training_actions("bedrock")}
    for index, st in enumerate(allowed):
        sid = st.get("Sid") or f"#{index}"
        granted = {a.lower() for a in actions(st)}
        bedrock = {a for a in granted if a.startswith("bedrock:") or a == "*"}
        other = sorted(bedrock - invoke - training - {"bedrock:applyguardrail"})
        if other:
            yield f"{resource.name} statement {sid} grants {', '.join(other)}: only invoking models and applying the guardrail"
        if bedrock & invoke:
            yield from _invoke_findings(resource.name, st, sid)
        if "bedrock:applyguardrail" in bedrock:
            stray = [
                str(r) for r in as_list(st.get("Resource")) if not _GUARDRAIL_ARN.match(str(r))
            ]
            if stray:
                yield f"{resource.name} statement {sid} applies guardrails on {', '.join(stray)}"
