"""`python -m village` is the `village` command."""

from village.cli import main

main()
