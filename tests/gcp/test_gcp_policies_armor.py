"""GCP-ARMOR policies (Model Armor): compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold_components.gcp.guardrail import PII_INFO_TYPES
from gcp.gcp_policy_support import DROP, LABELS, PROJECT, REGION, flagged, patch, reqs, res, unknown
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

TEMPLATE = "gcp:modelarmor/template:Template"
FLOOR = "gcp:modelarmor/floorsetting:Floorsetting"
INSPECT = "gcp:dataloss/preventionInspectTemplate:PreventionInspectTemplate"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
INSPECT_NAME = f"{PARENT}/inspectTemplates/aiinspectapp"
ENABLED = {"filterEnforcement": "ENABLED"}


def filters(confidence: str = "LOW_AND_ABOVE", sdp: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "raiSettings": {
            "raiFilters": [
                {"filterType": kind, "confidenceLevel": confidence}
                for kind in ("HATE_SPEECH", "HARASSMENT", "SEXUALLY_EXPLICIT", "DANGEROUS")
            ]
        },
        "piAndJailbreakFilterSettings": {**ENABLED, "confidenceLevel": confidence},
        "maliciousUriFilterSettings": ENABLED,
        "sdpSettings": sdp or {"advancedConfig": {"inspectTemplate": INSPECT_NAME}},
    }


TEMPLATE_INPUTS = {
    "project": PROJECT,
    "location": REGION,
    "templateId": "aiapp",
    "filterConfig": filters(),
    "templateMetadata": {
        "enforcementType": "INSPECT_AND_BLOCK",
        "logSanitizeOperations": True,
        "logTemplateOperations": True,
        "multiLanguageDetection": {"enableMultiLanguageDetection": True},
    },
    "labels": LABELS,
}
FLOOR_INPUTS = {
    "parent": f"projects/{PROJECT}",
    "location": "global",
    "enableFloorSettingEnforcement": True,
    "filterConfig": filters(sdp={"basicConfig": ENABLED}),
    "integratedServices": ["AI_PLATFORM"],
    "aiPlatformFloorSetting": {"inspectAndBlock": True, "enableCloudLogging": True},
    "floorSettingMetadata": {"multiLanguageDetection": {"enableMultiLanguageDetection": True}},
}
INSPECT_INPUTS = {
    "parent": PARENT,
    "templateId": "aiinspectapp",
    "inspectConfig": {
        "infoTypes": [
            {"name": t}
            for entity in reqs().setting("pii_entities")  # confidential data's entities
            for t in PII_INFO_TYPES[entity]
        ],
        "minLikelihood": "POSSIBLE",
    },
}


def template(name: str = "template", /, **changes: Any) -> Any:
    return res(TEMPLATE, name, patch(TEMPLATE_INPUTS, changes))


def floor(name: str = "floor", /, **changes: Any) -> Any:
    return res(FLOOR, name, patch(FLOOR_INPUTS, changes))


def inspect(name: str = "inspect", /, **changes: Any) -> Any:
    return res(INSPECT, name, patch(INSPECT_INPUTS, changes))


def test_rai_filters() -> None:
    resources = [
        template(),
        floor(),
        template(
            "missing",
            **{"filterConfig.raiSettings.raiFilters": filters()["raiSettings"]["raiFilters"][1:]},
        ),
        template("none", **{"filterConfig.raiSettings": DROP}),
        floor(
            "lax", **{"filterConfig.raiSettings.raiFilters.2.confidenceLevel": "MEDIUM_AND_ABOVE"}
        ),
        floor("unset", **{"filterConfig.raiSettings.raiFilters.0.confidenceLevel": DROP}),
    ]
    assert flagged("GCP-ARMOR-001", resources) == {"missing", "none", "lax", "unset"}
    # a MEDIUM strength (public data) accepts MEDIUM_AND_ABOVE, not HIGH
    medium = [
        template("medium", filterConfig=filters("MEDIUM_AND_ABOVE")),
        template("high", filterConfig=filters("HIGH")),
    ]
    assert flagged("GCP-ARMOR-001", medium, reqs(data_sensitivity="public")) == {"high"}


def test_prompt_injection() -> None:
    resources = [
        template(),
        floor(),
        template("off", **{"filterConfig.piAndJailbreakFilterSettings": DROP}),
        template(
            "disabled",
            **{"filterConfig.piAndJailbreakFilterSettings.filterEnforcement": "DISABLED"},
        ),
        floor("lax", **{"filterConfig.piAndJailbreakFilterSettings.confidenceLevel": "HIGH"}),
        floor("unset", **{"filterConfig.piAndJailbreakFilterSettings.confidenceLevel": DROP}),
    ]
    assert flagged("GCP-ARMOR-002", resources) == {"off", "disabled", "lax", "unset"}
    # Prompt attacks are blocked from the lowest confidence whatever the content filter
    # strength: a public-data profile (MEDIUM) accepts MEDIUM_AND_ABOVE RAI filters only.
    medium = [
        template("medium", filterConfig=filters("MEDIUM_AND_ABOVE")),
        template(
            "rai-only",
            **{
                "filterConfig": filters("MEDIUM_AND_ABOVE"),
                "filterConfig.piAndJailbreakFilterSettings.confidenceLevel": "LOW_AND_ABOVE",
            },
        ),
    ]
    public = reqs(data_sensitivity="public")
    assert flagged("GCP-ARMOR-002", medium, public) == {"medium"}
    assert flagged("GCP-ARMOR-001", medium, public) == set()


def test_sensitive_data() -> None:
    basic = {"basicConfig": ENABLED}
    resources = [
        template(),
        floor(),
        template("basic", **{"filterConfig.sdpSettings": basic}),
        template("off", **{"filterConfig.sdpSettings": DROP}),
        floor("off-floor", **{"filterConfig.sdpSettings": DROP}),
        floor("disabled", **{"filterConfig.sdpSettings.basicConfig.filterEnforcement": "DISABLED"}),
    ]
    # confidential data asks for the advanced configuration on templates
    assert flagged("GCP-ARMOR-003", resources) == {"basic", "off", "off-floor", "disabled"}
    assert flagged("GCP-ARMOR-003", resources, reqs(data_sensitivity="internal")) == {
        "off",
        "off-floor",
        "disabled",
    }


def test_malicious_uri() -> None:
    resources = [
        template(),
        floor(),
        template("off", **{"filterConfig.maliciousUriFilterSettings": DROP}),
        floor(
            "disabled", **{"filterConfig.maliciousUriFilterSettings.filterEnforcement": "DISABLED"}
        ),
    ]
    assert flagged("GCP-ARMOR-004", resources) == {"off", "disabled"}


def test_blocking() -> None:
    resources = [
        template(),
        template("default", **{"templateMetadata.enforcementType": DROP}),  # blocks by default
        template("inspect-only", **{"templateMetadata.enforcementType": "INSPECT_ONLY"}),
        floor(),
        floor("unenforced", enableFloorSettingEnforcement=False),
        floor(
            "inspect-vertex",
            aiPlatformFloorSetting={"inspectOnly": True, "enableCloudLogging": True},
        ),
        floor("unset-vertex", **{"aiPlatformFloorSetting.inspectAndBlock": DROP}),
    ]
    assert flagged("GCP-ARMOR-005", resources) == {
        "inspect-only",
        "unenforced",
        "inspect-vertex",
        "unset-vertex",
    }


def test_vertex_integration() -> None:
    resources = [
        floor(),
        floor("unintegrated", integratedServices=DROP),
        floor("no-setting", aiPlatformFloorSetting=DROP),
    ]
    assert flagged("GCP-ARMOR-006", resources) == {"unintegrated", "no-setting"}


def test_screening_logged() -> None:
    resources = [
        template(),
        floor(),
        template("silent", **{"templateMetadata.logSanitizeOperations": False}),
        template("unaudited", **{"templateMetadata.logTemplateOperations": DROP}),
        floor("silent-floor", **{"aiPlatformFloorSetting.enableCloudLogging": DROP}),
        floor("no-vertex", aiPlatformFloorSetting=DROP),  # GCP-ARMOR-006's business
    ]
    assert flagged("GCP-ARMOR-007", resources) == {"silent", "unaudited", "silent-floor"}


def test_every_language() -> None:
    resources = [
        template(),
        floor(),
        template("english", **{"templateMetadata.multiLanguageDetection": DROP}),
        template(
            "off", **{"templateMetadata.multiLanguageDetection.enableMultiLanguageDetection": False}
        ),
        floor("english-floor", floorSettingMetadata=DROP),
    ]
    assert flagged("GCP-ARMOR-011", resources) == {"english", "off", "english-floor"}


def test_vertex_workloads_are_guarded() -> None:
    endpoint = res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {})
    assert flagged("GCP-ARMOR-008", [endpoint, template(), floor()]) == set()
    assert flagged("GCP-ARMOR-008", [endpoint, floor()]) == {"(stack)"}
    assert flagged("GCP-ARMOR-008", [endpoint, template()]) == {"(stack)"}
    assert flagged("GCP-ARMOR-008", [endpoint, template(), floor(integratedServices=DROP)]) == {
        "(stack)"
    }
    assert flagged("GCP-ARMOR-008", [template()]) == set()


def test_inspect_template_covers_the_profile() -> None:
    assert flagged("GCP-ARMOR-009", [template(), inspect()]) == set()
    no_email = [
        t for t in INSPECT_INPUTS["inspectConfig"]["infoTypes"] if t["name"] != "EMAIL_ADDRESS"
    ]  # type: ignore[index]
    assert flagged(
        "GCP-ARMOR-009", [template(), inspect(**{"inspectConfig.infoTypes": no_email})]
    ) == {"inspect"}
    assert flagged(
        "GCP-ARMOR-009", [template(), inspect(**{"inspectConfig.minLikelihood": "LIKELY"})]
    ) == {"inspect"}
    # restricted data adds passports, tax ids, health numbers...
    assert flagged(
        "GCP-ARMOR-009", [template(), inspect()], reqs(data_sensitivity="restricted")
    ) == {"inspect"}
    # an inspect template outside the stack cannot be checked here
    assert flagged("GCP-ARMOR-009", [template()]) == set()


def test_denied_topics() -> None:
    topics = reqs(guardrail_denied_topics=["Medical advice", "stock tips"])
    dictionary = [
        {
            "infoType": {"name": "DENIED_TOPIC"},
            "dictionary": {"wordList": {"words": ["medical advice", "Stock tips"]}},
        }
    ]
    listed = inspect(**{"inspectConfig.customInfoTypes": dictionary})
    assert flagged("GCP-ARMOR-010", [template(), listed], topics) == set()
    assert flagged("GCP-ARMOR-010", [template(), inspect()], topics) == {"inspect"}
    only_stocks = {**dictionary[0], "dictionary": {"wordList": {"words": ["stock tips"]}}}
    partial = inspect(**{"inspectConfig.customInfoTypes": [only_stocks]})
    assert flagged("GCP-ARMOR-010", [template(), partial], topics) == {"inspect"}
    basic_template = template(**{"filterConfig.sdpSettings": {"basicConfig": ENABLED}})
    assert flagged("GCP-ARMOR-010", [basic_template, listed], topics) == {"template"}
    # no topics, or basic protection (which cannot express them): nothing to check
    assert flagged("GCP-ARMOR-010", [template(), inspect()]) == set()
    public = reqs(data_sensitivity="public", guardrail_denied_topics=["stock tips"])
    assert flagged("GCP-ARMOR-010", [basic_template], public) == set()


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        (
            "GCP-ARMOR-001",
            template("pending", **{"filterConfig.raiSettings": UNKNOWN_OBJECT_VALUE}),
        ),
        (
            "GCP-ARMOR-002",
            floor(
                "pending",
                **{
                    "filterConfig.piAndJailbreakFilterSettings.confidenceLevel": UNKNOWN_STRING_VALUE
                },
            ),
        ),
        (
            "GCP-ARMOR-003",
            template(
                "pending",
                **{"filterConfig.sdpSettings.advancedConfig.inspectTemplate": UNKNOWN_STRING_VALUE},
            ),
        ),
        (
            "GCP-ARMOR-004",
            floor("pending", **{"filterConfig.maliciousUriFilterSettings": UNKNOWN_OBJECT_VALUE}),
        ),
        ("GCP-ARMOR-005", floor("pending", enableFloorSettingEnforcement=UNKNOWN_STRING_VALUE)),
        ("GCP-ARMOR-007", template("pending", templateMetadata=UNKNOWN_OBJECT_VALUE)),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource]) == {"pending"}


def test_unknown_inspect_template_name() -> None:
    pending = template(
        **{"filterConfig.sdpSettings.advancedConfig.inspectTemplate": UNKNOWN_STRING_VALUE}
    )
    assert unknown("GCP-ARMOR-009", [pending, inspect()]) == {"(stack)"}
