"""The application image recipe, read (Docker cannot build here): multi-stage, pinned, non-root, complete."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.deploy.compose import PYPROJECT, project_packages, raw_compose
from tests.deploy.site import DEPLOY, REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_two_stages_on_a_pinned_slim_python_matching_requires_python() -> None:
    steps = instructions()
    base = next(rest for keyword, rest in steps if keyword == "ARG" and rest.startswith("PYTHON_IMAGE="))
    image = base.split("=", 1)[1]
    assert re.fullmatch(r"python:3\.(\d+)\.\d+-slim-[a-z]+", image), image
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert image.removeprefix("python:").startswith(minimum + ".")
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]


def test_the_final_stage_runs_village_as_an_unprivileged_user() -> None:
    final = instructions()[[k for k, _ in instructions()].index("FROM", 2) :]
    user = [rest for keyword, rest in final if keyword == "USER"]
    assert user == ["village:village"]
    assert "--uid 10001" in DOCKERFILE
    assert ("ENTRYPOINT", '["village"]') in final
    assert ("COPY", "--from=build /opt/village /opt/village") in final
    assert not [rest for keyword, rest in final if keyword == "COPY" and "--from" not in rest], "only the venv"


def test_every_package_of_the_project_goes_into_the_image() -> None:
    copied = {rest.split()[0] for keyword, rest in instructions() if keyword == "COPY"}
    assert set(project_packages()) <= copied
    assert {"pyproject.toml", "README.md"} <= {w for k, rest in instructions() if k == "COPY" for w in rest.split()}


def test_the_dependency_layer_lists_exactly_the_project_dependencies(tmp_path: Path) -> None:
    run = next(rest for keyword, rest in instructions() if keyword == "RUN" and "tomllib" in rest)
    command = shlex.split(run.split(">", 1)[0])  # python -c "...": what the build stage runs
    assert command[:2] == ["python", "-c"]
    (tmp_path / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    listed = subprocess.run(
        ["python3", "-c", command[2]], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert [line for line in listed if line] == PYPROJECT["project"]["dependencies"]


def test_dockerignore_keeps_secrets_and_data_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line[:1] not in "#"}
    assert {".env", ".village", ".venv", ".git"} <= ignored
    assert not ({"pyproject.toml", "README.md", *project_packages()} & ignored)


def test_the_wrapper_runs_the_compose_image_on_the_site_directory_as_the_caller(tmp_path: Path) -> None:
    """deploy/village with a `docker` that prints its arguments (there is no Docker engine here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (bin_dir / "docker").chmod(0o755)
    site = tmp_path / "site"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "VILLAGE_DATA_DIR": str(site)}
    done = subprocess.run(
        [str(DEPLOY / "village"), "devices", "provision", "--rotate", "dev-a"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    argv = done.stdout.splitlines()
    image = raw_compose()["services"]["ingest"]["image"]
    assert argv[:3] == ["run", "--rm", "--interactive"]
    assert argv[-5:] == [image, "devices", "provision", "--rotate", "dev-a"]
    assert f"{site}:/site" in argv
    assert f"{os.getuid()}:{os.getgid()}" in argv
    assert "VILLAGE_DATA_DIR=/site" in argv
    assert argv[argv.index("--network") + 1] == "none"
    assert site.is_dir()
