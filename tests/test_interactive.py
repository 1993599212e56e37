"""The interactive flow: copier's questionary prompts, driven through a pipe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiscaffold.errors import Interrupted, MissingAnswersError
from aiscaffold.generate import generate
from aiscaffold_components.catalog import load_catalog
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

DOWN, ENTER, SPACE, BACKSPACE, CTRL_C = "\x1b[B", "\r", " ", "\x7f", "\x03"


@pytest.fixture
def keyboard() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        yield pipe


def test_questions_in_order_with_a_validator_rejection(keyboard: PipeInput, tmp_path: Path) -> None:
    keys = [
        "Bad Name" + ENTER,  # refused by the project_name validator: the prompt stays
        BACKSPACE * len("Bad Name") + "chat-bot" + ENTER,
        ENTER,  # description: default
        DOWN + ENTER,  # cloud: azure
        ENTER,  # ai_service: openai (the only one on azure)
        ENTER,  # data_sensitivity: confidential
        DOWN * 3 + SPACE + ENTER,  # compliance: gdpr
        ENTER,  # region: the first EU region offered
        ENTER,  # models: defaults
        ENTER,  # stack: dev
        ENTER,  # denied topics: none
        DOWN + ENTER,  # pii_action: anonymize
        "y",  # allow_internet_egress: yes (confirm answers on the key)
        ENTER,  # state_backend: self-managed
        DOWN + ENTER,  # account_services: shared (gcp_org_policies is not asked on azure)
        # alert_emails: a bad address is refused, then a list of one
        BACKSPACE * 2 + "[not-an-address]" + ENTER,
        BACKSPACE * len("[not-an-address]") + "[secops@example.com]" + ENTER,
        BACKSPACE * 4 + "2500" + ENTER,  # monthly_budget (billing_account: gcp only)
        DOWN + ENTER,  # api_gateway: private
        # gateway_oidc_issuer has no default: plain http is refused, then an https URL
        "http://idp.example.com" + ENTER,
        BACKSPACE * len("http://idp.example.com") + "https://idp.example.com/t" + ENTER,
        "api://chat-bot" + ENTER,  # gateway_oidc_audience
        DOWN + SPACE + ENTER,  # workloads: inference (checked by default) and training
        # dr_region: the primary region is refused, then another EU region
        "swedencentral" + ENTER,
        BACKSPACE * len("swedencentral") + "germanywestcentral" + ENTER,
    ]
    keyboard.send_text("".join(keys))
    result = generate(tmp_path / "Out Dir", interactive=True)  # not a valid name: no default
    a = result.answers
    assert a.project_name == "chat-bot"
    assert a.cloud == "azure" and a.ai_service == "openai"
    assert a.compliance == ("gdpr",)
    assert a.region == "swedencentral"  # EU region: eastus2 is not offered under GDPR
    assert a.pii_action == "anonymize"
    assert a.allow_internet_egress is True
    assert a.account_services == "shared" and a.gcp_org_policies is False
    assert a.alert_emails == ("secops@example.com",)
    assert a.monthly_budget == 2500
    assert a.api_gateway == "private" and a.gateway_oidc_issuer == "https://idp.example.com/t"
    assert a.gateway_oidc_audience == "api://chat-bot"
    assert a.workloads == ("inference", "training") and a.dr_region == "germanywestcentral"
    assert (tmp_path / "Out Dir" / "Pulumi.dev.yaml").is_file()


def test_only_unanswered_questions_are_asked(keyboard: PipeInput, tmp_path: Path) -> None:
    given = {
        "project_name": "given-app",
        "description": "d",
        "cloud": "gcp",
        "ai_service": "vertex-ai",
        "data_sensitivity": "restricted",
        "compliance": [],
        "region": "us-east1",
        "models": list(load_catalog().clouds["gcp"].ai_services["vertex-ai"].default_models[:1]),
        "stack": "prod",
        "guardrail_denied_topics": [],
        "pii_action": "block",
    }
    # allow_internet_egress, state_backend, account_services, GCP's own question,
    # alert_emails, monthly_budget, billing_account (GCP's), api_gateway, workloads,
    # dr_region: the defaults
    keyboard.send_text("n" + ENTER + ENTER + "y" + ENTER + ENTER + ENTER + ENTER + ENTER + ENTER)
    result = generate(tmp_path / "p", answers=given, interactive=True)
    assert result.answers.stack == "prod" and result.answers.allow_internet_egress is False
    assert result.answers.account_services == "this-stack"
    assert result.answers.gcp_org_policies is True
    assert result.answers.alert_emails == ()
    assert result.answers.monthly_budget == 1000 and result.answers.billing_account == ""
    assert result.answers.api_gateway == "none"  # and its identity provider is not asked
    assert result.answers.workloads == ("inference",) and result.answers.dr_region == ""


def test_ctrl_c_writes_nothing(keyboard: PipeInput, tmp_path: Path) -> None:
    keyboard.send_text("half-typed" + ENTER + ENTER + CTRL_C)
    with pytest.raises(Interrupted) as caught:
        generate(tmp_path / "proj", interactive=True)
    assert caught.value.exit_code == 130
    assert list(tmp_path.iterdir()) == []


def test_end_of_input_names_missing_answers(keyboard: PipeInput, tmp_path: Path) -> None:
    keyboard.send_text("abc" + ENTER)
    keyboard.close()
    with pytest.raises(MissingAnswersError, match="description"):
        generate(tmp_path / "proj", interactive=True)
    assert list(tmp_path.iterdir()) == []


def test_cli_exit_code_for_ctrl_c(
    keyboard: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sys

    from aiscaffold.cli import main

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    keyboard.send_text(CTRL_C)
    assert main(["new", str(tmp_path / "proj")]) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
