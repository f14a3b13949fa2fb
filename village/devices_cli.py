"""`village devices`: the device registry and what is generated from it (broker credentials and ACLs)."""

from __future__ import annotations

import click


@click.group("devices")
def devices_group() -> None:
    """Manage the device registry (VILLAGE_REGISTRY_FILE)."""


from village.registry_commands import add_command, list_command, remove_command  # noqa: E402 - attached below

devices_group.add_command(list_command)
devices_group.add_command(add_command)
devices_group.add_command(remove_command)
