"""Policies every cloud has in the same shape: classification tags and data residency.

They are registered once per cloud (``AWS-GOV-001``, ``AZURE-GOV-001``, ...) so each
cloud's pack lists them under its own ids.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from collections.abc import Iterator, Sequence

from ._core import Requirements, Resource, stack_policy

#: Per cloud: the SDK package, and the input that carries tags or labels.
_SDKS = {
    "aws": ("pulumi_aws", "tags"),
    "azure": ("pulumi_azure_native", "tags"),
    "gcp": ("pulumi_gcp", "labels"),
}
_PACKAGE_PREFIX = {"aws": "aws", "azure": "azure-native", "gcp": "gcp"}
REQUIRED_TAGS = ("project", "stack", "data-classification", "managed-by", "compliance")

#: Types whose ``labels`` input is not their labels: a Monitoring notification channel's
#: ``labels`` configure the channel (``email_address``, ``topic``), its labels are
#: ``user_labels`` (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.notificationChannels).
_TAG_KEY_OF_TYPE = {"gcp:monitoring/notificationChannel:NotificationChannel": "userLabels"}


@functools.cache
def takes_tags(cloud: str, type_token: str) -> bool:
    """Whether resources of ``type_token`` accept tags/labels, per the SDK's own signature."""
    package, key = _SDKS[cloud]
    _, module_part, class_name = type_token.split(":")
    module_name = module_part.split("/")[0]
    # pulumi-aws's ``lambda`` module is ``lambda_`` in Python (a keyword).
    module_name = {"lambda": "lambda_"}.get(module_name, module_name)
    try:
        module = importlib.import_module(
            package if module_name == "index" else f"{package}.{module_name}"
        )
        cls = getattr(module, class_name)
        init = getattr(cls, "_internal_init", cls.__init__)
        return key in inspect.signature(init).parameters
    except (ImportError, AttributeError, ValueError, TypeError):
        return False


def _cloud_resources(cloud: str, resources: Sequence[Resource]) -> Iterator[Resource]:
    prefix = _PACKAGE_PREFIX[cloud] + ":"
    for resource in resources:
        if resource.type.startswith(prefix) and not resource.type.startswith("pulumi:"):
            yield resource


def _register_tags(cloud: str) -> None:
    key = _SDKS[cloud][1]

    @stack_policy(
        id=f"{cloud.upper()}-GOV-001",
        title=f"Every taggable resource carries the classification {key}",
        severity="medium",
        controls=["GOV-01"],
        remediation=f"Pass the profile's {key} (profile.tags) to every resource that takes {key}: "
        "project, stack, data-classification, managed-by, compliance.",
    )
    def classification_tags(
        resources: Sequence[Resource], requirements: Requirements
    ) -> Iterator[tuple[Resource | None, str]]:
        """Resources that accept tags or labels must carry the project's classification:
        inventory, access reviews and cost reports rely on them (the SDK's own signature
        tells which resource types accept them)."""
        for resource in _cloud_resources(cloud, resources):
            if not takes_tags(cloud, resource.type):
                continue
            tags = resource.get(_TAG_KEY_OF_TYPE.get(resource.type, key)) or {}
            missing = [t for t in REQUIRED_TAGS if t not in tags]
            if missing:
                yield resource, f"{resource.name} lacks {key}: {', '.join(missing)}"
            elif tags["data-classification"] != requirements.data_sensitivity:
                yield (
                    resource,
                    f"{resource.name} is tagged data-classification={tags['data-classification']}, "
                    f"the project handles {requirements.data_sensitivity} data",
                )


#: Location values that are not regions (global resources).
_GLOBAL = {"global", "Global"}
_GCP_MULTI = {"EU": "europe-", "US": "us-", "ASIA": "asia-"}


#: Zones name their region plus a suffix: GCP ``us-central1-a``, AWS ``us-east-1a``.
_ZONE = {
    "gcp": re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$"),
    "aws": re.compile(r"^([a-z]+(?:-[a-z]+)+-\d+)[a-z]$"),
}


def _location(cloud: str, resource: Resource) -> str | None:
    """The region a resource lives in: its own region, location or zone, else its provider's."""
    for key in ("region", "location", "zone", "availabilityZone"):
        value = resource.get(key)
        if isinstance(value, str) and value:
            zone = _ZONE.get(cloud)
            match = zone.match(value) if zone else None
            return match.group(1) if match else value
    provider_key = "location" if cloud == "azure" else "region"
    value = resource.provider_props.get(provider_key)
    return value if isinstance(value, str) and value else None


def _register_regions(cloud: str) -> None:
    @stack_policy(
        id=f"{cloud.upper()}-GOV-002",
        title="Resources stay in the regions the compliance answers allow",
        severity="high",
        controls=["GOV-02"],
        remediation="Deploy to an allowed region (the provider's region config and any "
        "per-resource region or location); GDPR allows EU regions, FedRAMP government regions.",
    )
    def data_residency(
        resources: Sequence[Resource], requirements: Requirements
    ) -> Iterator[tuple[Resource | None, str]]:
        """Every resource's region (its own, or its provider's) is one the project's
        frameworks allow; global resources hold no data at rest in a region."""
        allowed = set(requirements.setting("allowed_regions"))
        for resource in _cloud_resources(cloud, resources):
            location = _location(cloud, resource)
            if location is None or location in _GLOBAL:
                continue
            normalised = location.replace(" ", "").lower() if cloud == "azure" else location
            if cloud == "gcp" and location.upper() in _GCP_MULTI:
                prefix = _GCP_MULTI[location.upper()]
                if all(r.startswith(prefix) for r in allowed):
                    continue
            if normalised not in allowed:
                yield (
                    resource,
                    f"{resource.name} is in {location}, outside {', '.join(sorted(allowed))}",
                )


for _cloud in _SDKS:
    _register_tags(_cloud)
    _register_regions(_cloud)
