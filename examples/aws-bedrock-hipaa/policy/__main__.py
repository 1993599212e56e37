"""Policy pack of aws-bedrock-hipaa: aiscaffold's policies for its controls.

`pulumi preview --policy-pack policy` runs this file; `aiscaffold check` evaluates the
same policies offline. What is enforced, and at which level, is in enforcement.yaml.
"""

from pathlib import Path

from aiscaffold_components.policies import Requirements, pulumi_policies

REQUIREMENTS = Requirements.load(Path(__file__).with_name("enforcement.yaml"))

if __name__ == "__main__":  # building the pack starts its gRPC server and blocks
    from pulumi_policy import PolicyPack

    PolicyPack(name="aws-bedrock-hipaa-security", policies=pulumi_policies(REQUIREMENTS))
