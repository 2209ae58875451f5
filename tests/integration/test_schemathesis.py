"""Schemathesis against the app's own OpenAPI: no input makes a 500, no answer breaks its schema.

Driven through schemathesis's Hypothesis strategies, one operation at a time (its pytest plugin does not
work with this pytest), with a bounded number of examples so the run stays short.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.keys import KeyService

KEY = "schemathesis-admin-key"
EXAMPLES = 25


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def api_schema(box):
    from service.app import create_app

    box.settings.rate_limit_per_minute = 0
    box.rate_limiter.per_minute = 0
    box.settings.webhook_allow_private_networks = False
    KeyService(box.engine, box.clock).create("admin", "hq", "schemathesis", KEY)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(box))


def test_no_input_makes_a_server_error(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"},
                                   checks=[not_a_server_error, response_schema_conformance])
        check()
