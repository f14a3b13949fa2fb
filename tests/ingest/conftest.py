"""Ingest tests start ingestors on fresh subscriptions: none of them may see retained statuses of other tests."""

from __future__ import annotations

import pytest

from tests.helpers import clear_retained
from village.services import Broker


@pytest.fixture(autouse=True)
def _no_retained_statuses(request: pytest.FixtureRequest) -> None:
    if "broker" in request.fixturenames:
        broker: Broker = request.getfixturevalue("broker")
        clear_retained(broker.url)
