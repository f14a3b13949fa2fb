"""`village`: one command, one subcommand per service, plus the local stack."""

from __future__ import annotations

import logging

import click

from api.cli import api_command
from api.web.farmers_cli import farmers_group
from dashboards.cli import dashboards_group
from ingest.cli import ingest_command
from ingest.rejects_cli import rejects_group
from simulators.cli import simulate_command
from village.devices_cli import devices_group
from village.up import up_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log DEBUG details.")
def main(verbose: bool) -> None:
    """Smart Village pipeline: MQTT → ingest → InfluxDB → API and dashboards."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for chatty in ("httpx", "httpcore"):  # one INFO line per request would drown the pipeline's own log
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose else logging.WARNING)


main.add_command(up_command)
main.add_command(ingest_command)
main.add_command(api_command)
main.add_command(simulate_command)
main.add_command(devices_group)
main.add_command(farmers_group)
main.add_command(rejects_group)
main.add_command(dashboards_group)
