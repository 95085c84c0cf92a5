"""Property-based tests of the workspace's JSON API from /openapi.json (schemathesis), logged
in as an investigator and as an admin: whatever is sent, no server error and only documented
status codes. Derandomized, so a run in CI is the run seen here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from trialscreen.web import Settings, create_app

from .site_support import AS_OF, SEED, add_users, apply, bearer

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi.checks import status_code_conformance  # noqa: E402

_DB = Path(__import__("tempfile").mkdtemp(prefix="trialscreen-site-st-")) / "st.db"
app = create_app(Settings(db_url=f"sqlite:///{_DB}", as_of=AS_OF))
add_users(app)
apply(app, SEED, "Ann Seedapplicant")
with TestClient(app) as _client:
    TOKENS = [bearer(_client, "inv"), bearer(_client, "admin")]
schema = (
    schemathesis.openapi.from_asgi("/openapi.json", app)
    .include(path_regex="^/site/api/")
    .exclude(path_regex="^/site/api/(logout|login)$")  # logging out would end the run's session
)


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_site_api_has_no_server_errors(case: Any) -> None:
    for headers in TOKENS:
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code}"
        case.validate_response(response, checks=[status_code_conformance])
