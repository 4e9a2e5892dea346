"""Schema-based requests (Schemathesis) to every dashboard route described in
bots/web/openapi/dashboard.yaml, signed in as an analyst and not: never a 5xx, and every answer
conforms to the description (status code, content type, headers). Deterministic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bots.web.openapi import Description, load
from tests.console.conftest import sign_in

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 15


def test_generated_requests_get_described_answers(seeded, staff) -> None:
    client = sign_in(seeded.test_client(), staff.analyst)
    cookie = client.get_cookie("session")
    assert cookie is not None
    schema = schemathesis.openapi.from_dict(load(Description.DASHBOARD))
    schema.app = seeded
    statuses: Counter[str] = Counter()
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    def sender(cookies: dict[str, str] | None) -> Callable[[Case, st.DataObject], None]:
        def send(case: Case, data: st.DataObject) -> None:
            response = case.call(cookies=cookies)
            statuses[f"{case.path} {response.status_code}"] += 1
            case.validate_response(response, checks=CHECKS)

        return send

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for cookies in ({"session": cookie.value}, None):
                try:
                    settings(hypothesis.given(case=operation.as_strategy(mode), data=st.data())(sender(cookies)))()
                except hypothesis.errors.Unsatisfiable:
                    continue
    assert statuses["/dashboard/ 200"] and statuses["/dashboard/ 400"] and statuses["/dashboard/ 302"], statuses
    assert statuses["/dashboard/export/{table}.csv 200"], statuses
