"""Requests checked against their OpenAPI description before the view runs (openapi-core).

:class:`RequestValidator` takes one description (``api_v1.yaml``) and a Flask request that
Flask has already routed, finds the described operation from the matched rule, and checks its
path and query parameters (types, enums, minimum/maximum, lengths) and its JSON body (required
properties, types, enums, lengths, ``additionalProperties: false``) with openapi-core. The first
problem becomes one :class:`Refusal`: the field it concerns and what is wrong with it, in words
that never echo a lone surrogate or a control character and are capped in length.

Left to the view, so its answers stay what they were: a body that is missing, not sent as
JSON, not valid JSON, or not an object where one is required (the view's 400); an empty query
value (the view reads it as absent); a body over the size limit (413); and the request's
credentials (the operation's ``security`` is only reported, see :attr:`Refusal.public`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from flask import Request
from jsonschema_path import SchemaPath
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.request.exceptions import (
    InvalidRequestBody,
    MissingRequiredParameter,
    ParameterValidationError,
)
from openapi_core.validation.request.validators import V30RequestBodyValidator, V30RequestParametersValidator
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from . import Description, load

__all__ = ["RequestValidator", "Refusal", "validator_for", "MAX_ERROR_CHARS"]

#: the longest ``error`` text of a refusal; a quoted value inside it is cut at ``_MAX_VALUE_CHARS``.
MAX_ERROR_CHARS = 300
_MAX_VALUE_CHARS = 40
_MAX_FIELD_CHARS = 100
#: a ``jsonschema.exceptions.ValidationError`` (openapi-core's ``schema_errors``; jsonschema ships no type hints)
SchemaError = Any
#: the field named when the body as a whole is wrong (a oneOf no branch of which fits)
BODY = "body"

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


@dataclass(frozen=True)
class Refusal:
    """What is wrong with a request's readable input (answered 422).

    Attributes:
        field: the body field's path (``text``, ``recipient.channel``, ``items.0``), or the
            query or path parameter's name (``limit``, ``conversation_id``); ``body`` for the body as a whole.
        problem: what is wrong with it, for a person.
        schemes: the security schemes the operation accepts (``bearer``, ``apiKey``); empty: none
            needed (public).
    """

    field: str
    problem: str
    schemes: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        """The operation needs no credentials (its ``security`` is empty)."""
        return not self.schemes

    @property
    def message(self) -> str:
        """``<field>: <problem>``, capped at :data:`MAX_ERROR_CHARS`."""
        text = f"{self.field}: {self.problem}"
        return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"

    def as_json(self) -> dict[str, str]:
        """The answer's body: ``{"error": message, "field": field}``."""
        return {"error": self.message, "field": self.field}


class _Request(FlaskOpenAPIRequest):
    """Flask's request as openapi-core reads it, with empty query values dropped (the views read
    ``?limit=`` as "not given") and every JSON media type the views read (``request.is_json``:
    ``application/*+json`` too) checked against the description's ``application/json``."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.parameters.query = ImmutableMultiDict([(k, v) for k, v in request.args.items(multi=True) if v != ""])

    @property
    def content_type(self) -> str:
        return "application/json" if self.request.is_json else super().content_type


class RequestValidator:
    """Checks routed Flask requests against one OpenAPI 3.0 description.

    Args:
        description: the description as loaded (``load(Description.API_V1)``).
    """

    def __init__(self, description: dict[str, Any]) -> None:
        self._spec = SchemaPath.from_dict(description)
        self._parameters = V30RequestParametersValidator(self._spec)
        self._body = V30RequestBodyValidator(self._spec)
        self._finder = APICallPathFinder(self._spec)

    def check(self, request: Request) -> Refusal | None:
        """The first problem of ``request``'s parameters or JSON body, or None (valid, or not ours to answer).

        Args:
            request: a request Flask has routed (``request.url_rule`` set); an unrouted one is
                left alone, as is a route the description does not know.
        """
        if request.url_rule is None:
            return None
        wrapped = _Request(request)
        try:
            found = self._finder.find(wrapped.method, urljoin(wrapped.host_url, wrapped.path_pattern))
        except PathError:
            return None
        refusal = self._first(self._parameters.iter_errors(wrapped))
        if refusal is None:
            try:
                refusal = self._first(self._body.iter_errors(wrapped))
            except HTTPException:  # a body over MAX_CONTENT_LENGTH: the view answers it (413), after its auth
                return None
        if refusal is None:
            return None
        operation = found.operation
        security = operation / "security" if "security" in operation else self._spec.get("security")
        schemes = () if security is None else tuple(name for requirement in security for name in requirement.keys())  # noqa: SIM118 - a SchemaPath iterates paths, its keys() are the names
        return Refusal(refusal.field, refusal.problem, schemes)

    def _first(self, errors: Iterable[Exception]) -> Refusal | None:
        for error in errors:
            refusal = _parameter_refusal(error) if isinstance(error, ParameterValidationError) else None
            if isinstance(error, InvalidRequestBody) and isinstance(error.__cause__, InvalidSchemaValue):
                refusal = _body_refusal(list(error.__cause__.schema_errors))
            # anything else (no body, another content type, unreadable JSON, an unknown path) is the view's
            if refusal is not None:
                return refusal
        return None


@functools.cache
def validator_for(description: Description) -> RequestValidator:
    """The validator of ``description``, built once per process (on first use, not at import)."""
    return RequestValidator(load(description))


# -- errors into words ---------------------------------------------------------------------------
def _parameter_refusal(error: ParameterValidationError) -> Refusal | None:
    name = _printable(error.name)
    if isinstance(error, MissingRequiredParameter):
        return Refusal(name, f"the {error.location} parameter is required")
    cause = error.__cause__
    if isinstance(cause, CastError):
        wanted = _TYPE_WORDS.get(cause.type or "", cause.type or "another type")
        return Refusal(name, f"must be {wanted}, not {_quote(cause.value)}")
    if isinstance(cause, InvalidSchemaValue) and cause.schema_errors:
        return Refusal(name, _problem(next(iter(cause.schema_errors))))
    return None  # e.g. an empty value where none is allowed: the view decides


def _body_refusal(errors: Sequence[SchemaError]) -> Refusal | None:
    for error in errors:
        if not error.path and not isinstance(error.instance, dict):
            return None  # not an object where one is required: the view's own 400
    if not errors:
        return None
    error = _innermost(errors[0])
    field, problem = _located(error)
    return Refusal(field, problem)


def _innermost(error: SchemaError) -> SchemaError:
    """For a oneOf/anyOf no branch of which fits: the deepest problem of the one branch the client
    meant (the only one whose required properties are all there); else the oneOf itself."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error
    branches: dict[object, list[SchemaError]] = {}
    for e in error.context:
        branches.setdefault(e.relative_schema_path[0], []).append(e)
    meant = [errors for errors in branches.values() if not any(e.validator == "required" for e in errors)]
    if len(meant) != 1:
        return error
    return _innermost(max(meant[0], key=lambda e: len(e.path)))


def _located(error: SchemaError) -> tuple[str, str]:
    path = [str(p) for p in error.path]
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            return _field([*path, missing[0]]), "is required"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in instance if k not in allowed)
        if extra:
            accepted = ", ".join(allowed) or "no properties"
            return _field([*path, extra[0]]), f"is not accepted here (accepted: {accepted})"
    return _field(path), _problem(error)


def _problem(error: SchemaError) -> str:
    """What is wrong, from the failed keyword and its value (never jsonschema's message: it quotes
    the whole value, lone surrogates and all)."""
    keyword, expected, value, schema = error.validator, error.validator_value, error.instance, error.schema
    if keyword == "type":
        wanted = " or ".join(
            _TYPE_WORDS.get(t, str(t)) for t in ([expected] if isinstance(expected, str) else expected)
        )
        if value is None and schema.get("type") is not None:
            return f"must be {wanted}, not null"
        return f"must be {wanted}, not {_json_type(value)}"
    if keyword == "enum":
        return f"must be one of {', '.join(str(v) for v in expected)} (got {_quote(value)})"
    if keyword == "maxLength" and isinstance(value, str):
        return f"is {len(value)} characters long; the limit is {expected}"
    if keyword == "minLength":
        return f"must be at least {expected} character{'s' if expected != 1 else ''} long"
    if keyword in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        shown = _quote(value)
        if low is not None and high is not None:
            return f"{shown} is out of range ({low} to {high})"
        return f"{shown} is {'below the minimum' if keyword == 'minimum' else 'above the maximum'} of {expected}"
    if keyword in ("oneOf", "anyOf"):
        forms = [" + ".join(branch.get("required", [])) or "…" for branch in expected if isinstance(branch, dict)]
        return f"must hold {'exactly' if keyword == 'oneOf' else 'at least'} one of: {', '.join(forms)}"
    if keyword in ("maxItems", "minItems", "maxProperties", "minProperties"):
        return f"breaks {keyword} {expected}"
    return f"does not match the description ({keyword})"


def _field(path: list[str]) -> str:
    return _printable(".".join(path)) if path else BODY


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _printable(text: str) -> str:
    """``text`` cut to its first characters, with anything unprintable (a lone surrogate, a control
    character) written as its escape (``\\ud800``)."""
    short = text[:_MAX_FIELD_CHARS]
    cleaned = "".join(c if c.isprintable() else repr(c)[1:-1] for c in short)
    return cleaned + ("…" if len(text) > _MAX_FIELD_CHARS else "")


def _quote(value: object) -> str:
    """A value for a message: ``repr`` (which escapes lone surrogates and controls), cut short."""
    if isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
        return repr(value[:_MAX_VALUE_CHARS]) + "…"
    shown = repr(value)
    return shown if len(shown) <= _MAX_VALUE_CHARS else shown[:_MAX_VALUE_CHARS] + "…"
