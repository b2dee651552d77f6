"""Schemathesis hooks of scripts/test-openapi (SCHEMATHESIS_HOOKS=schemathesis_hooks):
serializers for the request bodies documented as text — NDJSON lines (POST /api/v1/lookup,
POST /api/v1/fixes), a GPX file (POST /api/v1/fixes), CSV (PUT /api/v1/staff, the component and
shop registers) and GeoJSON (the registers) — so that schemathesis can send them."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


@schemathesis.serializer("application/gpx+xml", "text/csv", "application/geo+json")
def text_file(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")
