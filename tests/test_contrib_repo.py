"""The contribution files describe GitHub; these tests read them offline: CITATION.cff keeps to CFF
1.2.0, the workflows run the project's own commands, the issue forms are well formed, and the
example in CONTRIBUTING.md is a valid paper."""

from __future__ import annotations

import re
import shutil
import tomllib

import pytest
import yaml
from conftest import ROOT, copy_taxonomy

from smatlas.cli import build_parser, main

GITHUB = ROOT / ".github"

# Top-level keys of the Citation File Format 1.2.0 schema.
CFF_KEYS = set(
    """abstract authors cff-version commit contact date-released doi identifiers keywords license
    license-url message preferred-citation references repository repository-artifact repository-code
    title type url version""".split()
)


def load_yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + " " + str(step.get("uses", "")) for step in job["steps"])


def test_citation_cff_keeps_to_version_1_2_0():
    cff = load_yaml(ROOT / "CITATION.cff")
    assert cff["cff-version"] == "1.2.0"
    assert set(cff) <= CFF_KEYS, set(cff) - CFF_KEYS
    assert isinstance(cff["message"], str) and cff["message"].strip()
    assert isinstance(cff["title"], str) and cff["title"].strip()
    assert cff["type"] in ("software", "dataset")
    assert cff["authors"] and all(("name" in a) or ("family-names" in a) for a in cff["authors"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(cff["version"]) == project["version"]
    for ref in cff.get("references", []):
        assert {"type", "title", "authors"} <= set(ref)
    # The survey the atlas follows is cited with the same arXiv id as its paper file.
    survey = load_yaml(ROOT / "papers" / "chen2024role.yaml")
    assert any(survey["arxiv"] in str(ref.get("identifiers")) for ref in cff["references"])


def test_pull_request_workflow_validates_changes_tests_and_builds():
    wf = load_yaml(GITHUB / "workflows" / "pull-request.yml")
    assert "pull_request" in triggers(wf)
    jobs = wf["jobs"]
    validate = steps_text(jobs["validate"])
    assert "smatlas validate --changed-since" in validate and "smatlas check-links" in validate
    assert "--online" not in validate  # never in CI
    assert jobs["validate"]["steps"][0]["with"]["fetch-depth"] == 0
    assert "bash .ci/run" in steps_text(jobs["test"])
    assert "smatlas build" in steps_text(jobs["build"])


def test_online_link_check_runs_on_a_schedule_or_by_hand_never_on_pull_requests():
    wf = load_yaml(GITHUB / "workflows" / "links.yml")
    assert set(triggers(wf)) == {"schedule", "workflow_dispatch"}
    assert "smatlas check-links --online" in steps_text(wf["jobs"]["check-links"])
    for path in (GITHUB / "workflows").glob("*.yml"):
        on = triggers(load_yaml(path))
        if "pull_request" in on or "push" in on:  # the checks of every change stay offline
            assert "--online" not in path.read_text(encoding="utf-8"), path.name


def test_main_workflow_deploys_the_built_site_with_the_official_pages_actions():
    wf = load_yaml(GITHUB / "workflows" / "pages.yml")
    assert triggers(wf)["push"]["branches"] == ["main"]
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    build = wf["jobs"]["build"]
    uses = [step.get("uses", "") for step in build["steps"]]
    assert any(u.startswith("actions/configure-pages@") for u in uses)
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site/build"  # where `smatlas build` writes
    assert "smatlas build" in steps_text(build)
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_workflows_use_only_pinned_action_versions():
    for path in (GITHUB / "workflows").glob("*.yml"):
        for job in load_yaml(path)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), (path.name, step["uses"])


@pytest.mark.parametrize(
    "name,required",
    [("add-paper.yml", {"title", "identifier", "summary"}), ("correct-paper.yml", {"paper", "correction", "source"})],
)
def test_issue_forms_are_well_formed(name, required):
    form = load_yaml(GITHUB / "ISSUE_TEMPLATE" / name)
    assert form["name"] and form["description"] and isinstance(form["body"], list)
    fields = [item for item in form["body"] if item["type"] != "markdown"]
    ids = [item["id"] for item in fields]
    assert len(ids) == len(set(ids))
    assert all(item["attributes"]["label"] for item in fields)
    assert all(item["type"] in ("input", "textarea", "dropdown", "checkboxes") for item in fields)
    marked = {item["id"] for item in fields if item.get("validations", {}).get("required")}
    assert required <= marked


def test_pull_request_template_lists_the_checks():
    text = (GITHUB / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    for command in ("smatlas validate --changed-since", "smatlas check-links", "smatlas suggest", "make test"):
        assert command in text


def test_pre_commit_runs_the_pinned_ruff_and_the_validator():
    config = load_yaml(ROOT / ".pre-commit-config.yaml")
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    pinned = next(p for p in pins["test"] if p.startswith("ruff=="))
    assert ruff["rev"] == "v" + pinned.removeprefix("ruff==")
    assert {hook["id"] for hook in ruff["hooks"]} == {"ruff-check", "ruff-format"}
    [hook] = repos["local"]["hooks"]
    assert hook["entry"].startswith("smatlas validate") and hook["language"] == "system"


def test_contributing_example_is_a_valid_paper(tmp_path, capsys):
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    example = next(
        block for block in re.findall(r"```yaml\n(.*?)```", text, re.S) if block.startswith("# yaml-language")
    )
    pid = yaml.safe_load(example)["id"]
    copy_taxonomy(tmp_path)
    shutil.copytree(ROOT / "papers", tmp_path / "papers")
    (tmp_path / "papers" / f"{pid}.yaml").write_text(example, encoding="utf-8")
    code = main(["--root", str(tmp_path), "validate", str(tmp_path / "papers" / f"{pid}.yaml")])
    assert code == 0, capsys.readouterr().err


def test_contributing_names_commands_that_exist():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    for command in ("validate", "suggest", "check-links"):
        assert f"smatlas {command}" in text and command in commands
    assert "--changed-since" in text and "--online" in text
    assert "CONTRIBUTING.md" in (ROOT / "README.md").read_text(encoding="utf-8")
