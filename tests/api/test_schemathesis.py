"""Property-based checks of the running API against its own OpenAPI document: no 5xx, no schema violation.

Each document is the one the server serves (built here from the same factory and settings, so it is known at
collection time); every generated request goes over HTTP to the real server on the session's dataset. The
positive-data check is left out: some rules span parameters (start before stop, device or village, range x
resolution limits) and OpenAPI cannot express them, so a schema-valid request may rightly get a 422.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.settings import ApiSettings
from tests.api.conftest import READ_ALL_TOKEN, bearer

EXAMPLES = 30


def _document(*, public_read: bool) -> schemathesis.BaseSchema:
    app = create_app(ApiSettings(_env_file=None, api_public_read=public_read))  # type: ignore[call-arg]
    return schemathesis.openapi.from_dict(app.openapi())


public_schema = _document(public_read=True)
gated_schema = _document(public_read=False)


@public_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_open_data_api_honours_its_document(case: schemathesis.Case, public_url: str) -> None:
    case.call_and_validate(base_url=public_url, excluded_checks=[positive_data_acceptance])


@gated_schema.auth()
class ReadAllToken:
    """The read-all token, applied by schemathesis itself so its auth checks know a valid one was sent."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:  # noqa: ARG002
        return READ_ALL_TOKEN

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:  # noqa: ARG002
        case.headers = {**(case.headers or {}), **bearer(data)}


@gated_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_token_gated_api_honours_its_document(case: schemathesis.Case, api_url: str) -> None:
    case.call_and_validate(base_url=api_url, excluded_checks=[positive_data_acceptance])
