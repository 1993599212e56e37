"""aws policies: one module per service; importing this package registers them.

Ids are ``AWS-<SERVICE>-NNN`` and never reused. ``AWS-GOV-001`` and ``AWS-GOV-002``
(tags, residency) come from ``policies/common.py``.
"""

from . import (  # noqa: F401 - importing registers the policies
    bedrock,
    cost,
    detection,
    endpoints,
    gateway,
    governance,
    iam,
    kms,
    logs,
    network,
    s3,
    sagemaker,
    secrets,
    segmentation,
    trail,
)
