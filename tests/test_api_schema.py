"""Schemathesis against the OpenAPI document: generated requests to every API
operation (as an administrator) never get a 5xx, and every error is problem+json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from api.accounts import Role
from api.app import create_app
from api.config import ApiSettings
from graph.embedded import EmbeddedStore
from ingest.pipeline import IngestRequest, run_ingest
from tests.conftest import PERSON_KEY, TODAY, district_files


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    d = tmp_path_factory.mktemp("schema")
    store = EmbeddedStore(d / "store.sqlite")
    run_ingest(store, [IngestRequest(p, mode="full") for p in district_files()],
               person_key=PERSON_KEY, quarantine_dir=d / "q", today=TODAY)
    store.close()
    app = create_app(ApiSettings(secret_key="s" * 32, data_dir=d, store=str(d / "store.sqlite"),
                                 person_key=PERSON_KEY.hex()))
    app.state.services.accounts.add_user("admin", "admin-password-1", Role.admin)
    token = TestClient(app).post("/api/v1/auth/token", data={
        "username": "admin", "password": "admin-password-1"}).json()["access_token"]
    app.state.test_token = token
    yield app


def test_no_server_errors(api_app: object) -> None:
    """Every operation, ~15 generated requests each (the ingest upload and logout are
    left out: one starts background runs, the other revokes the token)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    token = api_app.state.test_token  # type: ignore[attr-defined]
    checked = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in ("/api/v1/ingest", "/api/v1/auth/logout"):
            continue

        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if response.status_code >= 400:
                ctype = response.headers.get("content-type")
                ctype = ctype[0] if isinstance(ctype, list) else ctype
                assert str(ctype).startswith("application/problem+json"), (
                    case.method, case.path, response.status_code)

        check()
        checked += 1
    assert checked >= 20
