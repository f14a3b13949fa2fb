"""docker-compose.yml and .env.example read the way docker compose reads them: YAML first, then `${...}` interpolation.

Docker cannot run on the development machines, so the tests prove the stack by reading it. The settings classes
are found by importing every module of the project's packages, so variables added later are checked too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from tests.deploy.site import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariableError(ValueError):
    """A `${NAME:?message}` whose variable is unset or empty: compose refuses to start."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """compose's `$$`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        value = env.get(name)
        if value == "" and op.startswith(":"):
            value = None
        if value is not None:
            return value
        if op.endswith("?"):
            raise MissingVariableError(f"{name}: {arg}")
        return arg if op.endswith("-") else ""

    return _VARIABLE.sub(substitute, text)


def variables_used(text: str) -> set[str]:
    """Every variable compose would look up in this text."""
    return {m["name"] for m in _VARIABLE.finditer(text) if m["name"]}


def raw_compose() -> dict[str, Any]:
    """The YAML as written, variables not yet substituted."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def resolved_compose(env: Mapping[str, str]) -> dict[str, Any]:
    """The compose model after interpolation with `env` (as from the .env file)."""

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, env)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return node

    resolved: dict[str, Any] = walk(raw_compose())
    return resolved


def env_example_values() -> dict[str, str]:
    """The assignments of .env.example (what a fresh .env holds before the officer edits it)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def env_example_documented() -> set[str]:
    """Variables .env.example sets or documents (`# NAME=` lines)."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment`, in either the mapping or the list form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def project_packages() -> list[str]:
    packages: list[str] = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    return packages


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class defined in the project's packages."""
    for package in project_packages():
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if not info.name.endswith("__main__"):  # `python -m village` runs the command on import
                importlib.import_module(info.name)

    def subclasses(cls: type[BaseSettings]) -> Iterator[type[BaseSettings]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    roots = set(project_packages())
    return [cls for cls in subclasses(BaseSettings) if cls.__module__.split(".")[0] in roots]


def variables_read_by_the_code() -> dict[str, str]:
    """Environment variable name -> the settings class that reads it."""
    found: dict[str, str] = {}
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, field in cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
            found.setdefault((alias or f"{prefix}{name}").upper(), cls.__qualname__)
    return found


def volume_mounts(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each short-syntax volume."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target, *_ = str(volume).split(":")
        mounts.append((source, target))
    return mounts


def same_path(compose_path: str, path: Path) -> bool:
    """Whether a path relative to the compose file is `path` (relative to the repository)."""
    return (REPO / compose_path).resolve() == (REPO / path).resolve()
