"""Every /api/v1 request is checked against api_v1.yaml before its view (bots/web/openapi/validation.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request

from bots.web import api
from bots.web.openapi import Description, load
from bots.web.openapi.validation import MAX_ERROR_CHARS, RequestValidator

from .conftest import World

CID = "fake:cust9"
MESSAGES = f"/api/v1/conversations/{CID}/messages"
NOTES = f"/api/v1/conversations/{CID}/notes"
ASSIGN = f"/api/v1/conversations/{CID}/assign"


def refused(r: Any, field: str) -> str:
    """The 422's error text, after checking it names ``field``."""
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    assert body["field"] == field and body["error"].startswith(f"{field}: "), body
    return str(body["error"])


@pytest.mark.parametrize(
    ("path", "body", "field", "fragment"),
    [
        (MESSAGES, {"text": 3}, "text", "must be a string, not a number"),
        (MESSAGES, {"text": "hi", "template": 3}, "template", "must be a string"),
        (NOTES, {"text": ["a"]}, "text", "must be a string, not an array"),
        (NOTES, {"text": None}, "text", "not null"),
        (ASSIGN, {"staff_id": "3"}, "staff_id", "must be a whole number, not a string"),
        (ASSIGN, {"staff_id": True}, "staff_id", "not a boolean"),
        (ASSIGN, {"staff_id": 0}, "staff_id", "out of range (1 to 2147483647)"),
        (ASSIGN, {"email": "a" * 300}, "email", "the limit is 254"),
        (MESSAGES, {"text": "x" * 5000}, "text", "the limit is 4096"),
    ],
)
def test_a_wrong_type_or_size_in_the_body_is_a_422_naming_the_field(
    world: World, path: str, body: dict[str, Any], field: str, fragment: str
) -> None:
    assert fragment in refused(world.client.post(path, json=body, headers=world.auth()), field)


@pytest.mark.parametrize(
    ("path", "body", "field", "fragment"),
    [
        (MESSAGES, {"template": "reply"}, "text", "is required"),
        (NOTES, {}, "text", "is required"),
        (ASSIGN, {}, "body", "exactly one of: staff_id, email"),
    ],
)
def test_a_missing_required_field_is_a_422_naming_it(
    world: World, path: str, body: dict[str, Any], field: str, fragment: str
) -> None:
    assert fragment in refused(world.client.post(path, json=body, headers=world.auth()), field)


@pytest.mark.parametrize(
    ("query", "field", "fragment"),
    [
        ("limit=ten", "limit", "must be a whole number, not 'ten'"),
        ("limit=0", "limit", "0 is out of range (1 to 200)"),
        ("limit=201", "limit", "out of range"),
        ("offset=-1", "offset", "out of range (0 to 1000000)"),
        ("view=later", "view", "must be one of waiting, mine, open, resolved, all (got 'later')"),
        ("mode=asleep", "mode", "must be one of bot, waiting, human, resolved"),
        ("q=" + "q" * 201, "q", "the limit is 200"),
    ],
)
def test_a_query_parameter_of_the_wrong_type_or_out_of_range_is_a_422_naming_it(
    world: World, query: str, field: str, fragment: str
) -> None:
    r = world.client.get(f"/api/v1/conversations?{query}", headers=world.auth())
    assert fragment in refused(r, field)


def test_a_property_the_description_forbids_is_refused(world: World) -> None:
    r = world.client.post(ASSIGN, json={"staff_id": 1, "note": "x"}, headers=world.auth())
    assert "is not accepted here (accepted: staff_id)" in refused(r, "note")
    r = world.client.post(ASSIGN, json={"staff_id": 1, "email": "bob@nimbus.example"}, headers=world.auth())
    assert "must hold exactly one of: staff_id, email" in refused(r, "body")


def test_valid_requests_reach_their_view_untouched(world: World) -> None:
    web, auth = world.client, world.auth()
    r = web.get("/api/v1/conversations?view=all&limit=5&offset=0&channel=fake&q=x", headers=auth)
    assert r.status_code == 200 and r.get_json()["limit"] == 5
    r = web.get("/api/v1/conversations?limit=&view=&offset=", headers=auth)  # empty means "not given"
    assert r.status_code == 200 and r.get_json()["limit"] == 50
    r = web.get("/api/v1/conversations/fake:nobody", headers=auth)
    assert r.status_code == 404  # the view's answer: the id is well-formed
    r = web.post("/api/v1/conversations/fake:nobody/takeover", headers=auth)
    assert r.status_code == 404
    # a field the description does not forbid is ignored, as the view always did
    r = web.post("/api/v1/conversations/fake:nobody/notes", json={"text": "hi", "extra": 1}, headers=auth)
    assert r.status_code == 404
    r = web.post("/api/v1/conversations/fake:nobody/assign", json={"email": "who@nimbus.example"}, headers=world.auth())
    assert r.status_code == 404 and "who@nimbus.example" in r.get_json()["error"]


@pytest.mark.parametrize(
    ("data", "content_type", "fragment"),
    [
        ("{not json", "application/json", "not valid JSON"),
        ("text=hi", "application/x-www-form-urlencoded", "Content-Type"),
        ('["hi"]', "application/json", "JSON object"),
        ("null", "application/json", "not valid JSON"),
        ("3", "application/json", "JSON object"),
        (b'{"text": "\xff"}', "application/json", "not valid JSON"),
        ("", "application/json", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_still_the_views_400(
    world: World, data: str | bytes, content_type: str, fragment: str
) -> None:
    r = world.client.post(MESSAGES, data=data, content_type=content_type, headers=world.auth())
    assert r.status_code == 400, r.get_data(as_text=True)
    assert fragment in r.get_json()["error"] and "field" not in r.get_json()


def test_without_a_valid_token_a_bad_request_is_still_401_and_a_wrong_role_403(world: World) -> None:
    web = world.client
    for headers in ({}, {"Authorization": "Bearer bbt_nope"}, {"X-Api-Key": "whatever"}):
        r = web.post(MESSAGES, json={"text": 3}, headers=headers)
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers, headers
        assert web.get("/api/v1/conversations?limit=ten", headers=headers).status_code == 401
    r = web.post(MESSAGES, json={"text": 3}, headers=world.auth("ivy"))
    assert r.status_code == 403 and "analyst" in r.get_json()["error"]


def test_routing_errors_are_unchanged(world: World) -> None:
    assert world.client.get("/api/v1/nothing?limit=ten", headers=world.auth()).status_code == 404
    assert world.client.delete(NOTES, json={"text": 3}, headers=world.auth()).status_code == 405


def test_an_error_never_echoes_a_lone_surrogate_and_is_capped(world: World) -> None:
    cases = [
        (ASSIGN, '{"' + "\\ud800" * 500 + '": 1, "staff_id": 1}'),
        (MESSAGES, '{"text": "hi", "template": ["\\udfff"]}'),
        (NOTES, '{"text": "' + "\\ud800" * 11000 + '"}'),
    ]
    for path, data in cases:
        r = world.client.post(path, data=data, content_type="application/json", headers=world.auth())
        assert r.status_code == 422, r.get_data(as_text=True)
        body = r.get_json()
        for text in (body["error"], body["field"]):
            assert not any("\ud800" <= c <= "\udfff" for c in text), text
        assert len(body["error"]) <= MAX_ERROR_CHARS
    assert (
        "\\ud800"
        in world.client.post(
            ASSIGN, data=cases[0][1], content_type="application/json", headers=world.auth()
        ).get_json()["field"]
    )


def test_every_operation_that_takes_a_body_describes_it_with_a_schema() -> None:
    """The validator can only check what is described: a POST without a JSON schema would let anything through."""
    description = load(Description.API_V1)
    for path, item in description["paths"].items():
        for method in ("get", "delete", "post", "put", "patch"):
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody")
            if method in ("get", "delete"):
                assert body is None, f"{method.upper()} {path} takes no body"
                continue
            assert body is not None, f"{method.upper()} {path} has no requestBody"
            if "$ref" in body:
                body = description["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
            schema = body["content"]["application/json"]["schema"]
            if "$ref" in schema:
                schema = description["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            assert schema.get("type") == "object" or schema.get("oneOf"), f"{method.upper()} {path}: {schema}"
            for part in ([schema], schema.get("oneOf", []))[bool(schema.get("oneOf"))]:
                for name, prop in part.get("properties", {}).items():
                    assert "type" in prop or "$ref" in prop, f"{method.upper()} {path}: {name} has no type"
            for parameter in item.get("parameters", []) + operation.get("parameters", []):
                assert "$ref" in parameter or "type" in parameter["schema"], (path, parameter)
    for path, item in description["paths"].items():
        for method, operation in item.items():
            checked = item.get("parameters") or operation.get("parameters") or operation.get("requestBody")
            if method != "parameters" and checked:
                assert "422" in operation["responses"], f"{method.upper()} {path} can be refused: document 422"


def test_the_descriptions_limits_are_the_apis() -> None:
    description = load(Description.API_V1)
    components = description["components"]
    assert components["parameters"]["ConversationId"]["schema"]["maxLength"] == api.MAX_CONVERSATION_ID
    query = {p["name"]: p["schema"] for p in description["paths"]["/conversations"]["get"]["parameters"]}
    assert query["channel"]["maxLength"] == query["language"]["maxLength"] == api.MAX_NAME
    assert query["offset"]["maximum"] == api.MAX_OFFSET
    send = description["paths"]["/conversations/{conversation_id}/messages"]["post"]
    assert send["requestBody"]["content"]["application/json"]["schema"]["properties"]["template"]["maxLength"] == (
        api.MAX_NAME
    )
    by_id, by_email = description["paths"]["/conversations/{conversation_id}/assign"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"]
    assert by_id["properties"]["staff_id"]["maximum"] == api.MAX_STAFF_ID
    assert by_email["properties"]["email"]["maxLength"] == api.MAX_EMAIL


NOTIFICATIONS = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/notifications": {
            "post": {
                "operationId": "notify",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["text", "recipient"],
                                "additionalProperties": False,
                                "properties": {
                                    "text": {"type": "string", "maxLength": 10},
                                    "recipient": {
                                        "type": "object",
                                        "required": ["channel"],
                                        "properties": {"channel": {"type": "string", "enum": ["sms", "telegram"]}},
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "sent"}},
            }
        },
        "/notifications/{id}": {
            "get": {
                "operationId": "notification",
                "security": [],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "one"}},
            }
        },
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "public"),
    [
        ("POST", "/api/v1/notifications", {"text": "hi", "recipient": {"channel": "fax"}}, "recipient.channel", False),
        ("POST", "/api/v1/notifications", {"text": "hi", "recipient": {}}, "recipient.channel", False),
        ("POST", "/api/v1/notifications", {"text": "hi", "recipient": {"channel": "sms"}, "x": 1}, "x", False),
        ("POST", "/api/v1/notifications", {"text": "x" * 11, "recipient": {"channel": "sms"}}, "text", False),
        ("GET", "/api/v1/notifications/abc", None, "id", True),
        ("POST", "/api/v1/notifications", {"text": "hi", "recipient": {"channel": "sms"}}, None, False),
        ("GET", "/api/v1/notifications/12", None, None, True),
    ],
)
def test_an_operation_added_to_the_description_is_checked_with_no_code_of_its_own(
    method: str, path: str, body: dict[str, Any] | None, field: str | None, public: bool
) -> None:
    app = Flask(__name__)
    app.add_url_rule("/api/v1/notifications", "notify", lambda: "", methods=["POST"])
    app.add_url_rule("/api/v1/notifications/<id>", "notification", lambda **_: "")
    validator = RequestValidator(NOTIFICATIONS)
    with app.test_request_context(path, method=method, json=body):
        refusal = validator.check(request)
    if field is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.field == field and refusal.public is public, refusal
