"""Chapter 10: the OpenAPI 3.1 document of the registry API, served at ``/openapi.json``.

Built as a plain dict so the limits in it are the ones ``foundations.api`` enforces; tests validate it
with openapi-spec-validator.
"""

from __future__ import annotations


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(max_value_bytes: int, max_key_length: int) -> dict:
    """The OpenAPI 3.1 description of every registry route, with the given limits."""
    key_schema = {"type": "string", "minLength": 1, "maxLength": max_key_length}
    key_query = {"name": "key", "in": "query", "required": True, "schema": key_schema}
    key_path = {"name": "key", "in": "path", "required": True, "schema": key_schema}
    value = {"type": "string", "description": f"at most {max_value_bytes} bytes in UTF-8"}
    errors = {"400": _error("missing or invalid parameter"), "503": _error("Redis does not answer")}
    not_found = {"404": _error("no such key")}
    too_large = {"413": _error(f"value over {max_value_bytes} bytes")}
    ok = _ok("stored or deleted", {"const": "OK"})
    one = _ok("the value", value)
    every = _ok("every key and its value", {"type": "object", "additionalProperties": {"type": "string"}})
    read_all = {"summary": "every key/value pair of the registry", "responses": {
        "200": every, "503": errors["503"]}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "API Foundations: the registry API", "version": "1.0.0",
                 "description": "The book's chapter 10 API (/get, /set, /getAll) plus /del and a REST "
                                "resource /keys/{key} over the same Redis keys (`api:<key>`)."},
        "paths": {
            "/get": {"get": {"summary": "the value of a key (the book's /get)", "parameters": [key_query],
                             "responses": {"200": one, **not_found, **errors}}},
            "/set": {"get": {"summary": "store a value (the book's /set)",
                             "parameters": [key_query, {"name": "value", "in": "query", "required": True,
                                                        "schema": value}],
                             "responses": {"200": ok, **too_large, **errors}}},
            "/del": {"get": {"summary": "delete a key", "parameters": [key_query],
                             "responses": {"200": ok, **not_found, **errors}}},
            "/getAll": {"get": read_all},
            "/keys": {"get": read_all},
            "/keys/{key}": {
                "parameters": [key_path],
                "get": {"summary": "the value of a key", "responses": {"200": one, **not_found, **errors}},
                "put": {"summary": "store a value: the raw UTF-8 body, or a JSON string",
                        "requestBody": {"required": True, "content": {
                            "text/plain": {"schema": value}, "application/json": {"schema": value}}},
                        "responses": {"200": ok, **too_large, **errors}},
                "delete": {"summary": "delete a key", "responses": {"200": ok, **not_found, **errors}},
            },
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["type", "message"], "properties": {
                "type": {"type": "string", "examples": ["not_found"]},
                "message": {"type": "string"}}}}}}},
    }
