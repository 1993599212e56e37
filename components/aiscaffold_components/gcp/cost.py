"""Cost guardrails (COST-01..03): budgets on the billing account, capacity caps on Vertex AI.

AI spend is a security signal: a leaked key or a prompt loop shows first as a bill
(OWASP LLM10, unbounded consumption). :class:`CostGuardrails` creates:

* **Budgets** (COST-01) on ``billing_account`` (Cloud Billing budgets,
  https://cloud.google.com/billing/docs/how-to/budgets): one on the project's whole
  spend (filter ``projects/<project number>``) and one on the AI service's own line
  (the same project, filter ``services/C7E2-9256-1C43``, Vertex AI's id in the Cloud
  Billing catalog, https://cloud.google.com/billing/v1/how-tos/catalog-api and
  https://cloud.google.com/skus?filter=C7E2-9256-1C43), each of ``monthly_budget``
  per calendar month, with actual-spend thresholds at 50, 80, 100 and 120 % and
  forecast thresholds at 100 and 120 %. The amount carries no currency code: Google
  takes the billing account's own currency, and refuses a code that differs ("If
  specified when creating a budget, it must match the currency of the billing
  account", billingbudgets v1 ``BudgetAmount.specifiedAmount``). Credits are excluded
  (``EXCLUDE_ALL_CREDITS``), so usage paid by promotional credits still counts: a
  runaway caller burns credits first.
* **Notifications** to the project's alert channel: every budget update goes to its
  Pub/Sub topic (``all_updates_rule.pubsub_topic``, schema ``1.0``, several times a
  day whatever the thresholds) and threshold crossings e-mail the channel's Monitoring
  e-mail channels (at most five, ``monitoringNotificationChannels``). Billing publishes
  as ``billing-budget-alert@system.gserviceaccount.com``
  (https://cloud.google.com/organization-policy/restrict-domains lists it); the
  Budget API grants it ``roles/pubsub.publisher`` on the topic itself, with the
  caller's ``pubsub.topics.setIamPolicy`` ("Caller is expected to have
  pubsub.topics.setIamPolicy permission on the topic ... otherwise, the API call will
  fail with PERMISSION_DENIED", ``AllUpdatesRule.pubsubTopic``,
  https://cloud.google.com/billing/docs/reference/budget/rest/v1/billingAccounts.budgets).
  The stack does not repeat that grant: GCP-IAM-008 admits grants to Google-managed
  identities only when they are service agents of the project.
* **Anomaly detection** (COST-02): the forecast thresholds (spend heading past the
  budget before the month ends) and the ``invocation-volume-spike`` alert of
  :class:`~.detection.SecurityAlarms` (requests far above the day before), which this
  component does not duplicate. Cloud Billing's cost anomaly detection runs on every
  billing account without setup and has no resource in pulumi-gcp: routing its
  notifications is the team's step (https://cloud.google.com/billing/docs/how-to/manage-anomalies).
* **Capacity caps** (COST-03): one consumer quota override per model on Vertex AI's
  per-minute request quota of its base model in the region
  (https://cloud.google.com/service-usage/docs/manage-quota#create_a_consumer_quota_override).
  Google recommends them to "control cost and prevent budget overruns" under dynamic
  shared quota (https://cloud.google.com/vertex-ai/generative-ai/docs/dsq). Gemini
  models count ``generate_content_requests_per_minute_per_project_per_base_model``,
  other models (embeddings, partner models)
  ``online_prediction_requests_per_base_model``, both with the unit
  ``1/min/{project}/{region}/{base_model}``
  (https://cloud.google.com/vertex-ai/generative-ai/docs/quotas). An override lowering a
  quota by more than 10 % is refused unless forced (``LIMIT_DECREASE_PERCENTAGE_TOO_HIGH``,
  serviceusage v1beta1 ``consumerOverrides.create``), and the cap is far below Google's
  defaults, so each override is forced.

The default cap, :data:`DEFAULT_REQUESTS_PER_MINUTE` per model and region, is sized on
the default budget: a Flash-class request of about 1,000 input and 250 output tokens
costs about $0.001 at list prices (https://cloud.google.com/vertex-ai/generative-ai/pricing),
so a caller pinned at the cap spends about $3.60 an hour and $86 a day: the budget's
daily notifications reach the team long before the month's 1,000 are gone.
:func:`max_requests_per_minute` scales that bound with the budget (a budget ten times
the default allows ten times the rate).

The Billing Budget API bills each call to a quota project, and refuses user credentials
without one (``403 ... The billingbudgets.googleapis.com API requires a quota
project``; https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/billing_budget).
So the budgets use their own provider with ``user_project_override`` and
``billing_project`` set to the project, where the stack enables the API (the deployer
needs ``serviceusage.services.use`` there). Creating a budget takes a role on the
billing account, ``roles/billing.costsManager``
(https://cloud.google.com/billing/docs/how-to/billing-access).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, wait_for_dependencies

__all__ = [
    "BUDGET_PUBLISHER",
    "DEFAULT_MONTHLY_BUDGET",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "FORECAST_THRESHOLDS",
    "SPEND_THRESHOLDS",
    "VERTEX_AI_BILLING_SERVICE",
    "CostGuardrails",
    "CostGuardrailsArgs",
    "max_requests_per_minute",
    "quota_metric",
]

#: Vertex AI's service in the Cloud Billing catalog (``services/<id>`` in budget filters;
#: https://cloud.google.com/billing/v1/how-tos/catalog-api lists the services).
VERTEX_AI_BILLING_SERVICE = "services/C7E2-9256-1C43"
#: Actual-spend thresholds, as fractions of the budget (COST-01).
SPEND_THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 1.0, 1.2)
#: Forecast thresholds: the month's forecast passing the budget (COST-01, COST-02).
FORECAST_THRESHOLDS: tuple[float, ...] = (1.0, 1.2)
#: The identity Cloud Billing publishes budget notifications as
#: (https://cloud.google.com/billing/docs/how-to/budgets-programmatic-notifications).
BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"
#: Billing accepts at most five Monitoring channels per budget (billingbudgets v1
#: ``NotificationsRule.monitoringNotificationChannels``).
MAX_BUDGET_CHANNELS = 5
#: A budget's display name: "less than or equal to 60 characters" (billingbudgets v1).
MAX_DISPLAY_NAME = 60
#: The default monthly budget of the answers; :func:`max_requests_per_minute` scales from it.
DEFAULT_MONTHLY_BUDGET = 1000
#: Requests per minute per model and region at the default budget (module docstring).
DEFAULT_REQUESTS_PER_MINUTE = 60
#: Billing account ids: three groups of six upper-case hexadecimal characters.
_BILLING_ACCOUNT = re.compile(r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}")
#: Vertex AI's per-minute request quotas and the unit (limit) their overrides name.
_GENERATE = (
    "aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model"
)
_PREDICT = "aiplatform.googleapis.com/online_prediction_requests_per_base_model"
QUOTA_LIMIT = "/min/project/region/base_model"
_AIPLATFORM = "aiplatform.googleapis.com"


def quota_metric(model: str) -> str:
    """The Vertex AI quota metric counting ``model``'s requests per minute: Gemini
    generation (``gemini-*``, not its embedding model) or online prediction."""
    if model.startswith("gemini-") and "embedding" not in model:
        return _GENERATE
    return _PREDICT


def max_requests_per_minute(monthly_budget: int) -> int:
    """The highest cap a project with ``monthly_budget`` should set (COST-03):
    :data:`DEFAULT_REQUESTS_PER_MINUTE`, scaled up with the budget above the default."""
    scale = max(1.0, monthly_budget / DEFAULT_MONTHLY_BUDGET)
    return math.ceil(DEFAULT_REQUESTS_PER_MINUTE * scale)


@dataclass(frozen=True)
class CostGuardrailsArgs:
    """Arguments of :class:`CostGuardrails`."""

    project: pulumi.Input[str]
    """Project id: the quota project of the budget calls and the overrides' consumer."""
    project_number: pulumi.Input[str]
    """Project number: budgets filter on ``projects/<number>``."""
    name_prefix: str
    """Start of the budgets' display names (``<prefix> monthly``, ``<prefix> AI``)."""
    region: str
    """Region whose Vertex AI quota the overrides cap."""
    monthly_budget: int = DEFAULT_MONTHLY_BUDGET
    """Budget per calendar month in the billing account's currency; 0: no budget (a
    weakening of COST-01 the policies report)."""
    billing_account: str = ""
    """``XXXXXX-XXXXXX-XXXXXX``; empty: no budget can be created (COST-01 advisory)."""
    alert_topic_id: pulumi.Input[str] | None = None
    """The alert channel's topic (``projects/<p>/topics/<t>``): every budget update."""
    notification_channels: Sequence[pulumi.Input[str]] = ()
    """The alert channel's Monitoring e-mail channels (at most five) threshold crossings
    e-mail."""
    models: Sequence[str] = ()
    """Model ids the workload calls: one quota override each (COST-03)."""
    requests_per_minute: int | None = None
    """Cap per model and region (stack config ``ai_requests_per_minute``); None:
    :data:`DEFAULT_REQUESTS_PER_MINUTE`; 0: no override (a weakening of COST-03)."""
    ai_services: Sequence[str] = (VERTEX_AI_BILLING_SERVICE,)
    """Cloud Billing services of the AI line's budget; empty: no AI-line budget."""
    impersonate_service_account: str | None = None
    """Service account the budgets' provider acts as, when the stack's default provider
    impersonates one (stack config ``gcp:impersonateServiceAccount``)."""


def _display_name(prefix: str, suffix: str) -> str:
    """``<prefix> <suffix>`` within Billing's 60 characters (the prefix is shortened)."""
    room = MAX_DISPLAY_NAME - len(suffix) - 1
    return f"{prefix[:room].rstrip('-_ ')} {suffix}"


class CostGuardrails(pulumi.ComponentResource):
    """Budgets with actual and forecast alerts to the alert channel, and Vertex AI
    request caps (COST-01..03)."""

    budget_names: list[pulumi.Output[str]]
    """Resource names of the budgets (``billingAccounts/<a>/budgets/<id>``); empty when
    no budget could be created."""
    quota_override_names: dict[str, pulumi.Output[str]]
    """The quota override of each model."""

    def __init__(
        self, name: str, args: CostGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.monthly_budget < 0:
            raise ValueError(f"monthly_budget may not be negative, not {args.monthly_budget}")
        if args.billing_account and not _BILLING_ACCOUNT.fullmatch(args.billing_account):
            raise ValueError(
                f"billing_account {args.billing_account!r} is not XXXXXX-XXXXXX-XXXXXX "
                "(`gcloud billing accounts list` shows it)"
            )
        if len(args.notification_channels) > MAX_BUDGET_CHANNELS:
            raise ValueError(
                f"a budget e-mails at most {MAX_BUDGET_CHANNELS} Monitoring channels, "
                f"not {len(args.notification_channels)}"
            )
        rpm = (
            DEFAULT_REQUESTS_PER_MINUTE
            if args.requests_per_minute is None
            else args.requests_per_minute
        )
        if rpm < 0:
            raise ValueError(f"requests_per_minute may not be negative (0: no cap), not {rpm}")
        for service in args.ai_services:
            if not re.fullmatch(r"services/[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", service):
                raise ValueError(
                    f"{service!r} is not a Cloud Billing service (services/XXXX-XXXX-XXXX)"
                )
        if len(set(args.models)) != len(args.models):
            raise ValueError("models must be unique")
        super().__init__("aiscaffold:gcp:CostGuardrails", name, None, opts)
        wait_for_dependencies(self, opts)

        self.budget_names = []
        if args.monthly_budget > 0 and args.billing_account:
            self._budgets(name, args)

        self.quota_override_names = {}
        if rpm:
            for model in args.models:
                override = gcp.serviceusage.ConsumerQuotaOverride(
                    f"{name}-quota-{re.sub(r'[^a-z0-9-]', '-', model.lower())}",
                    project=args.project,
                    service=_AIPLATFORM,
                    # The provider puts metric and limit into the request URL as they are:
                    # both URL-encoded (its documentation's examples use urlencode()).
                    metric=quota_metric(model).replace("/", "%2F"),
                    limit=QUOTA_LIMIT.replace("/", "%2F"),
                    dimensions={"region": args.region, "base_model": model},
                    override_value=str(rpm),
                    # Google's defaults are far above the cap: without force a decrease of
                    # more than 10 % is refused (LIMIT_DECREASE_PERCENTAGE_TOO_HIGH).
                    force=True,
                    opts=child_opts(self),
                )
                self.quota_override_names[model] = override.name

        self.register_outputs(
            {
                "budget_names": self.budget_names,
                "quota_override_names": self.quota_override_names,
            }
        )

    def _budgets(self, name: str, args: CostGuardrailsArgs) -> None:
        # Billing bills each call to a quota project; the project enables the API.
        provider = gcp.Provider(
            f"{name}-billing-provider",
            project=args.project,
            billing_project=args.project,
            user_project_override=True,
            impersonate_service_account=args.impersonate_service_account,
            opts=pulumi.ResourceOptions(parent=self),
        )
        rules = [
            gcp.billing.BudgetThresholdRuleArgs(threshold_percent=p, spend_basis="CURRENT_SPEND")
            for p in SPEND_THRESHOLDS
        ] + [
            gcp.billing.BudgetThresholdRuleArgs(threshold_percent=p, spend_basis="FORECASTED_SPEND")
            for p in FORECAST_THRESHOLDS
        ]
        notify = gcp.billing.BudgetAllUpdatesRuleArgs(
            pubsub_topic=args.alert_topic_id,
            schema_version="1.0" if args.alert_topic_id is not None else None,
            monitoring_notification_channels=list(args.notification_channels),
            # Billing account administrators keep their e-mails too.
            disable_default_iam_recipients=False,
        )
        project = pulumi.Output.concat("projects/", args.project_number)
        scopes: list[tuple[str, str, list[str] | None]] = [("budget", "monthly", None)]
        if args.ai_services:
            scopes.append(("ai-budget", "AI monthly", list(args.ai_services)))
        for role, suffix, services in scopes:
            budget = gcp.billing.Budget(
                f"{name}-{role}",
                billing_account=args.billing_account,
                display_name=_display_name(args.name_prefix, suffix),
                budget_filter=gcp.billing.BudgetBudgetFilterArgs(
                    projects=[project],
                    services=services,
                    calendar_period="MONTH",
                    credit_types_treatment="EXCLUDE_ALL_CREDITS",
                ),
                amount=gcp.billing.BudgetAmountArgs(
                    specified_amount=gcp.billing.BudgetAmountSpecifiedAmountArgs(
                        units=str(args.monthly_budget)
                    )
                ),
                threshold_rules=rules,
                all_updates_rule=notify,
                opts=pulumi.ResourceOptions.merge(
                    child_opts(self), pulumi.ResourceOptions(provider=provider)
                ),
            )
            self.budget_names.append(budget.name)
