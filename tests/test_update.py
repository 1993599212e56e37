"""`aiscaffold update` and plain `copier update`: template changes in, user edits kept.

Real git repositories in tmp_path, no network: the repository's template is released as
0.1.0 into a temporary history bundle, a v2 of it as 0.2.0, and projects move between.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from aiscaffold import template_source
from aiscaffold.cli import main
from aiscaffold.generate import generate
from aiscaffold.template_source import release_template
from aiscaffold.testing import run_program

REPO_TEMPLATE = Path(__file__).resolve().parents[1] / "templates"


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
    )
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env
    ).stdout


class Templates:
    """Template v1 (the repository's) and v2 (v1 changed), released into one bundle."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.bundle = root / "history.bundle"
        self.v1 = root / "v1"
        shutil.copytree(REPO_TEMPLATE, self.v1)
        release_template("0.1.0", template=self.v1, bundle=self.bundle)
        self.v2 = root / "v2"
        shutil.copytree(self.v1, self.v2)
        # v2 changes other lines of the files users edit, adds a file and a question,
        # removes a file, and carries a migration note.
        main_py = self.v2 / "includes" / "aws" / "__main__.py.jinja"
        main_py.write_text(
            "# Template generation 2: a comment the template adds at the top.\n"
            + main_py.read_text()
        )
        stack = self.v2 / "project" / "Pulumi.{{stack}}.yaml.jinja"
        stack.write_text(
            stack.read_text().replace("Tighten them as you need", "Tighten them freely")
        )
        (self.v2 / "project" / "SECURITY.md.jinja").write_text(
            "Security contact: {{ security_contact }}\n"
        )
        with (self.v2 / "copier.yml").open("a") as handle:
            handle.write(
                "\nsecurity_contact:\n  type: str\n  help: Who to call\n  default: security@example.com\n"
            )
        (self.v2 / "project" / ".gitignore").unlink()
        with (self.v2 / "migrations.yml").open("a") as handle:
            handle.write("- version: 0.2.0\n  notes: Adds SECURITY.md; set security_contact.\n")
        release_template("0.2.0", template=self.v2, bundle=self.bundle)

    def use(self, template: Path) -> None:
        self.monkeypatch.setattr(template_source, "template_dir", lambda: template)
        self.monkeypatch.setattr(template_source, "SHIPPED_BUNDLE", self.bundle)


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Templates:
    monkeypatch.setenv("AISCAFFOLD_CACHE_DIR", str(tmp_path / "cache"))
    return Templates(tmp_path, monkeypatch)


@pytest.fixture
def project(templates: Templates, tmp_path: Path) -> Path:
    """A v1 project, committed."""
    templates.use(templates.v1)
    dest = tmp_path / "proj"
    generate(dest, answers={"project_name": "upd-app", "cloud": "aws"}, defaults=True)
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == "0.1.0"
    git(dest, "init", "--quiet")
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "-m", "generated")
    return dest


def user_edits(project: Path) -> None:
    main_py = project / "__main__.py"
    main_py.write_text(main_py.read_text() + 'pulumi.export("owner", "payments")\n')
    stack = project / "Pulumi.dev.yaml"
    stack.write_text(
        stack.read_text().replace(
            "upd-app:log_retention_days: 365", "upd-app:log_retention_days: 400"
        )
    )
    git(project, "commit", "--quiet", "-am", "user edits")


def test_update_merges_template_changes_and_keeps_edits(
    templates: Templates, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_edits(project)
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 0
    out = capsys.readouterr().out
    assert "from template 0.1.0 to 0.2.0" in out
    assert "added     SECURITY.md" in out and "removed   .gitignore" in out
    assert "Adds SECURITY.md" in out  # migration note of the version crossed

    main_py = (project / "__main__.py").read_text()
    assert main_py.endswith('pulumi.export("owner", "payments")\n')  # user edit kept
    assert main_py.startswith("# Template generation 2")  # template change in
    stack = (project / "Pulumi.dev.yaml").read_text()
    assert "upd-app:log_retention_days: 400" in stack and "Tighten them freely" in stack
    assert (project / "SECURITY.md").read_text() == "Security contact: security@example.com\n"
    assert not (project / ".gitignore").exists()
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == "0.2.0" and recorded["security_contact"] == "security@example.com"

    result = run_program(project)  # the updated program still runs
    assert result.outputs["owner"] == "payments"


def test_conflict_exits_1_with_both_sides(
    templates: Templates, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("# upd-app", "# upd-app: payments RAG"))
    user_edits(project)
    v2_readme = templates.v2 / "project" / "README.md.jinja"
    v2_readme.write_text(
        v2_readme.read_text().replace("# {{ project_name }}", "# {{ project_name }} (template v2)")
    )
    release_template("0.2.1", template=templates.v2, bundle=templates.bundle)
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 1
    err = capsys.readouterr().err
    assert "  README.md" in err.splitlines() or "  README.md\n" in err
    text = readme.read_text()
    assert "<<<<<<< " in text and ">>>>>>> " in text
    assert "# upd-app: payments RAG" in text and "# upd-app (template v2)" in text
    assert (
        'pulumi.export("owner", "payments")' in (project / "__main__.py").read_text()
    )  # nothing else lost


def newer_aiscaffold(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a newer aiscaffold derives in code: a newer pulumi pin, a new pin, a shorter
    key rotation, a longer log retention, a new setting, and one setting no longer."""
    from aiscaffold import pins
    from aiscaffold_components.profile import Profile

    constraints = dict(pins._constraints())
    constraints["pulumi"] = "pulumi==3.999.0"
    constraints["pytest"] = "pytest==99.0.0"
    monkeypatch.setattr(pins, "_constraints", lambda: constraints)
    original = Profile.stack_config

    def stack_config(self: Profile, namespace: str | None = None) -> dict[str, object]:
        config = original(self, namespace)
        prefix = namespace or self.project
        config[f"{prefix}:key_rotation_days"] = 60
        config[f"{prefix}:log_retention_days"] = 500
        config[f"{prefix}:model_capacity"] = 20
        del config[f"{prefix}:flow_log_sampling"]
        return config

    monkeypatch.setattr(Profile, "stack_config", stack_config)


def test_update_brings_in_what_aiscaffold_derives_in_code(
    templates: Templates,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Pins and derived settings change with aiscaffold's code, not the template text:
    copier alone would keep the old ones as if they were edits."""
    user_edits(project)  # log_retention_days 365 -> 400: the user's
    requirements = project / "requirements.txt"
    requirements.write_text(
        requirements.read_text().replace("pytest==", "pytest-xdist==3.6.1\npytest==")
    )
    git(project, "commit", "--quiet", "-am", "a pin of mine")
    newer_aiscaffold(monkeypatch)
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 0
    out = capsys.readouterr().out

    lines = requirements.read_text().splitlines()
    assert "pulumi==3.999.0" in lines and "pytest==99.0.0" in lines
    assert "pytest-xdist==3.6.1" in lines  # the user's own pin stays
    stack_text = (project / "Pulumi.dev.yaml").read_text()
    stack = yaml.safe_load(stack_text)["config"]
    assert stack["upd-app:key_rotation_days"] == 60  # derived value the user left: new one
    assert stack["upd-app:log_retention_days"] == 400  # the user's value is kept ...
    assert "kept your upd-app:log_retention_days: 400 (aiscaffold now derives 500)" in out
    assert stack["upd-app:model_capacity"] == 20  # new setting added
    assert "upd-app:flow_log_sampling" not in stack  # setting no longer derived: removed
    assert "Tighten them freely" in stack_text  # the template's text change merged too
    policy = (project / "policy" / "requirements.txt").read_text().splitlines()
    assert "pulumi==3.999.0" in policy
    assert "modified  requirements.txt" in out and "modified  Pulumi.dev.yaml" in out

    # The record moved on: a second update has nothing left to do.
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "updated")
    assert main(["update", str(project), "--defaults"]) == 0
    assert "nothing to update" in capsys.readouterr().out
    assert git(project, "status", "--porcelain") == ""


def test_update_without_a_record_takes_its_base_from_git_history(
    templates: Templates,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A project rendered before the record existed: the base is what was committed with
    the answers file's last change (the generation), so later edits are still the user's."""
    git(project, "rm", "--quiet", ".aiscaffold-derived.yml")
    git(project, "commit", "--quiet", "-m", "a project from before the record")
    user_edits(project)  # log_retention_days 365 -> 400, committed after generation
    newer_aiscaffold(monkeypatch)
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 0
    out = capsys.readouterr().out
    assert "pulumi==3.999.0" in (project / "requirements.txt").read_text().splitlines()
    stack = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    assert stack["upd-app:key_rotation_days"] == 60 and stack["upd-app:model_capacity"] == 20
    assert stack["upd-app:log_retention_days"] == 400 and "kept your upd-app:log_retention" in out
    assert (project / ".aiscaffold-derived.yml").is_file()  # recorded from now on


def test_merge_without_any_base_adds_but_never_overwrites(tmp_path: Path) -> None:
    """No record and no history: differing values are the user's; missing ones are added."""
    from aiscaffold.derived import merge_derived

    (tmp_path / "requirements.txt").write_text("# as tested with aiscaffold 0.1.0.\npulumi==1.0\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  p:a: 1\n  p:b:\n  - x\n")
    new = {
        "requirements.txt": {"requirements": {"pulumi": "pulumi==2.0", "pytest": "pytest==9"}},
        "Pulumi.dev.yaml": {"config": {"p:a": 2, "p:b": ["x"], "p:c": True}},
    }
    result = merge_derived(tmp_path, None, new, "0.2.0")
    assert (tmp_path / "requirements.txt").read_text().splitlines()[1:] == [
        "pulumi==1.0",
        "pytest==9",
    ]
    assert yaml.safe_load((tmp_path / "Pulumi.dev.yaml").read_text())["config"] == {
        "p:a": 1,
        "p:b": ["x"],
        "p:c": True,
    }
    assert sorted(result.updated) == ["Pulumi.dev.yaml", "requirements.txt"]
    assert len(result.kept) == 2  # pulumi and p:a, both listed for review


def test_user_deleted_file_stays_deleted(templates: Templates, project: Path) -> None:
    (project / "README.md").unlink()
    git(project, "commit", "--quiet", "-am", "no readme")
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 0
    assert not (project / "README.md").exists()


def test_new_question_without_terminal_or_defaults(
    templates: Templates, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates.use(templates.v2)
    assert main(["update", str(project)]) == 2
    assert "security_contact" in capsys.readouterr().err
    assert main(["update", str(project), "--data", "security_contact=sec@acme.test"]) == 0
    assert "sec@acme.test" in (project / "SECURITY.md").read_text()


def test_new_question_is_asked_on_a_terminal(templates: Templates, project: Path) -> None:
    """Without --defaults, a question new in the template is asked (questionary)."""
    from aiscaffold.update import update
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    templates.use(templates.v2)
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        keys.send_text("\x7f" * len("security@example.com") + "oncall@acme.test\r")
        result = update(project, interactive=True)
    assert result.new_version == "0.2.0" and "SECURITY.md" in result.added
    assert (project / "SECURITY.md").read_text() == "Security contact: oncall@acme.test\n"
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["security_contact"] == "oncall@acme.test"


def test_pretend_changes_nothing(
    templates: Templates, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates.use(templates.v2)
    before = git(project, "rev-parse", "HEAD")
    assert main(["update", str(project), "--defaults", "--pretend"]) == 0
    assert "would update from template 0.1.0 to 0.2.0" in capsys.readouterr().out
    assert (
        git(project, "status", "--porcelain") == "" and git(project, "rev-parse", "HEAD") == before
    )
    assert (project / ".gitignore").exists()


@pytest.mark.parametrize(
    ("spoil", "mentions"),
    [
        (lambda p: (p / "__main__.py").write_text("changed"), "uncommitted or untracked"),
        (lambda p: (p / "scratch.txt").write_text("new"), "scratch.txt"),
        (lambda p: shutil.rmtree(p / ".git"), "not in a git repository"),
        (
            lambda p: (git(p, "rm", "-q", ".copier-answers.yml"), git(p, "commit", "-qm", "rm")),
            "no .copier-answers.yml",
        ),
    ],
)
def test_refusals_change_nothing(
    templates: Templates,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    spoil: object,
    mentions: str,
) -> None:
    spoil(project)  # type: ignore[operator]
    templates.use(templates.v2)
    before = {
        p.relative_to(project): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    assert main(["update", str(project), "--defaults"]) == 2
    err = capsys.readouterr().err
    assert mentions in err and "Traceback" not in err
    after = {
        p.relative_to(project): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    assert after == before


def test_plain_copier_update(templates: Templates, project: Path) -> None:
    user_edits(project)
    templates.use(templates.v2)
    template_source.ensure_template_source()  # aiscaffold keeps the bundle current
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--skip-answered"],
        cwd=project,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "0.2.0"
    main_py = (project / "__main__.py").read_text()
    assert 'pulumi.export("owner", "payments")' in main_py and "Template generation 2" in main_py


def test_development_templates_update_in_order(templates: Templates, tmp_path: Path) -> None:
    """Checkout users: untagged template changes get increasing dev versions."""
    dev = tmp_path / "dev"
    shutil.copytree(templates.v1, dev)
    (dev / "project" / "NOTES.md").write_text("one\n")
    templates.use(dev)
    dest = tmp_path / "devproj"
    generate(dest, answers={"project_name": "dev-app"}, defaults=True)
    first = yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"]
    assert first.startswith("0.2.1.dev")  # after the last release (0.2.0), before the next
    git(dest, "init", "--quiet")
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "-m", "generated")
    (dev / "project" / "NOTES.md").write_text("two\n")
    result_code = main(["update", str(dest), "--defaults"])
    assert result_code == 0
    assert (dest / "NOTES.md").read_text() == "two\n"
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] != first


def test_release_script(tmp_path: Path) -> None:
    import sys

    bundle = tmp_path / "h.bundle"
    script = Path(__file__).resolve().parents[1] / "scripts" / "release_template.py"

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(script),
                *a,
                "--template",
                str(REPO_TEMPLATE),
                "--bundle",
                str(bundle),
            ],
            capture_output=True,
            text=True,
        )

    first = run("0.1.0")
    assert first.returncode == 0, first.stderr
    assert run("0.1.0").returncode == 2  # not newer
    assert "has not changed" in run("0.2.0").stderr  # nothing to release
    tags = git(tmp_path, "ls-remote", "--tags", str(bundle))
    assert "refs/tags/0.1.0" in tags


def test_update_derives_every_stack_and_keeps_edits_per_stack(
    templates: Templates,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """dev and prod (added with `stack add`): a newer aiscaffold's derived settings reach
    both stack files; the user's edit in prod is kept and reported under prod (issue 18)."""
    code = main(
        [
            "stack",
            "add",
            "prod",
            "--project",
            str(project),
            "--data",
            "data_sensitivity=restricted",
            "--data",
            "compliance=[hipaa]",
            "--defaults",
        ]
    )
    assert code == 0
    prod_file = project / "Pulumi.prod.yaml"
    assert "upd-app:log_retention_days: 2192" in prod_file.read_text()
    prod_file.write_text(
        prod_file.read_text().replace(
            "upd-app:log_retention_days: 2192", "upd-app:log_retention_days: 2500"
        )
    )
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "stack prod, with a longer retention of mine")
    capsys.readouterr()
    newer_aiscaffold(monkeypatch)
    templates.use(templates.v2)
    assert main(["update", str(project), "--defaults"]) == 0
    out = capsys.readouterr().out

    dev = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    prod_text = prod_file.read_text()
    prod = yaml.safe_load(prod_text)["config"]
    assert dev["upd-app:key_rotation_days"] == prod["upd-app:key_rotation_days"] == 60
    assert dev["upd-app:log_retention_days"] == 500  # left as derived: the new value
    assert prod["upd-app:log_retention_days"] == 2500  # the user's, kept and reported
    assert "prod: Pulumi.prod.yaml: kept your upd-app:log_retention_days: 2500" in out
    assert dev["upd-app:model_capacity"] == prod["upd-app:model_capacity"] == 20
    assert "upd-app:flow_log_sampling" not in dev and "upd-app:flow_log_sampling" not in prod
    assert prod["upd-app:data_sensitivity"] == "restricted"  # still prod's own answers
    assert "modified  Pulumi.prod.yaml" in out and "modified  Pulumi.dev.yaml" in out
    record = yaml.safe_load((project / ".aiscaffold-derived.yml").read_text())["files"]
    assert record["Pulumi.prod.yaml"]["config"]["upd-app:log_retention_days"] == 500
    assert "data_sensitivity: restricted" in (project / "policy/enforcement.prod.yaml").read_text()
