"""Property-based API tests from the published OpenAPI schema (schemathesis): whatever a
client sends, the server answers without a server error and within its documented codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from trialscreen.web import Settings, create_app

from .conftest import AS_OF

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import status_code_conformance  # noqa: E402

_DB = Path(__import__("tempfile").mkdtemp(prefix="trialscreen-st-")) / "st.db"
app = create_app(Settings(db_url=f"sqlite:///{_DB}", as_of=AS_OF, apply_per_minute=10_000, apply_burst=10_000))
# The public pages' API (issue 5); the site workspace under /site/ has its own tests.
schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex="^/site/")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code}"
    case.validate_response(response, checks=[status_code_conformance])
