"""The generated deploy smoke test: its offline steps run as written.

The workflow deploys a throw-away copy of the stack to a sandbox; everything before
its first cloud call (the cloud login) must work here, exactly as written. The steps
after it are checked for what makes the job safe: a second preview that must show no
change, outputs verified, and a cleanup that always runs and can destroy everything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import RenderProject

WORKFLOW = Path(".github/workflows/deploy-smoke-test.yml")
#: Steps that only prepare the runner: the test process already is that environment.
_RUNNER_SETUP = ("actions/checkout", "actions/setup-python")


def _steps(project: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    job = yaml.safe_load((project / WORKFLOW).read_text())["jobs"]["smoke"]
    return job, job["steps"]


def _run_offline_steps(project: Path, env: dict[str, str]) -> list[str]:
    """Run the job's steps up to the first cloud call; returns the commands run."""
    _, steps = _steps(project)
    ran = []
    for step in steps:
        uses = step.get("uses", "")
        if uses.startswith(_RUNNER_SETUP):
            continue
        if uses:
            break  # the first cloud call: a login action
        command = step["run"]
        if command.startswith("pip install"):
            # The packages are this test environment's; installing the project's pins
            # needs its aiscaffold release on an index.
            continue
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        ran.append(command)
    return ran


@pytest.mark.slow
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_offline_steps_run_as_written(
    render_project: RenderProject, cloud: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(render_project(cloud=cloud), project)
    env = {
        **os.environ,
        "SMOKE_STACK": "smoke-42",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    ran = _run_offline_steps(project, env)
    assert any("aiscaffold check" in command for command in ran)

    config = yaml.safe_load((project / "Pulumi.smoke-42.yaml").read_text())["config"]
    source = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    assert config["test-app:lock_log_archive"] is False, "a sandbox never locks its logs"
    assert {k: v for k, v in config.items() if k != "test-app:lock_log_archive"} == source
    expected = json.loads((project / "expected.json").read_text())
    assert expected["stack"] == "smoke-42" and expected["outputs"]

    verify = [sys.executable, "scripts/smoke_stack.py", "verify", "expected.json", "outputs.json"]
    deployed = {key: "value" for key in expected["outputs"]}
    (project / "outputs.json").write_text(json.dumps(deployed))
    assert subprocess.run(verify, cwd=project, capture_output=True).returncode == 0
    missing = sorted(expected["outputs"])[0]
    del deployed[missing]
    (project / "outputs.json").write_text(json.dumps(deployed))
    done = subprocess.run(verify, cwd=project, capture_output=True, text=True)
    assert done.returncode == 1 and missing in done.stderr

    refused = subprocess.run(
        [sys.executable, "scripts/smoke_stack.py", "prepare", "dev"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "throw-away" in refused.stderr


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_cloud_steps_deploy_recheck_and_always_destroy(
    render_project: RenderProject, cloud: str
) -> None:
    project = render_project(cloud=cloud)
    text = (project / WORKFLOW).read_text()
    job, steps = _steps(project)
    assert yaml.safe_load(text)[True] == {"workflow_dispatch": None}  # `on:` (YAML 1.1 true)
    assert job["permissions"]["id-token"] == "write" and "secrets." not in text
    runs = [step.get("run", "") for step in steps]
    up = next(i for i, r in enumerate(runs) if r.startswith("pulumi up"))
    recheck = next(i for i, r in enumerate(runs) if "--expect-no-changes" in r)
    verify = next(i for i, r in enumerate(runs) if "smoke_stack.py verify" in r)
    assert up < recheck < verify
    cleanup = steps[-1]
    assert cleanup["if"] == "always()"
    for command in ("pulumi state unprotect --all", "pulumi destroy --yes", "pulumi stack rm"):
        assert command in cleanup["run"], command
    stack_commands = [
        r for r in runs if r.startswith("pulumi ") and not r.startswith("pulumi login")
    ]
    assert stack_commands and all("SMOKE_STACK" in r for r in stack_commands)


@pytest.mark.parametrize(
    "answers",
    [{"cloud": "aws"}, {"cloud": "aws", "ai_service": "sagemaker"}, {"cloud": "gcp"}],
    ids=["aws", "aws-sagemaker", "gcp"],
)
def test_every_script_the_workflow_calls_is_shipped(
    render_project: RenderProject, answers: dict[str, str]
) -> None:
    import re

    project = render_project(**answers)
    called = set(re.findall(r"scripts/[\w.-]+", (project / WORKFLOW).read_text()))
    assert called and all((project / path).is_file() for path in called), called
    if answers.get("ai_service") == "sagemaker":
        assert "scripts/sagemaker-cleanup.sh" in called
        done = subprocess.run(["bash", "-n", "scripts/sagemaker-cleanup.sh"], cwd=project)
        assert done.returncode == 0
