"""Schemathesis hooks of scripts/test-openapi (SCHEMATHESIS_HOOKS=schemathesis_hooks): a
serializer for the NDJSON request body of POST /api/v1/lookup (documented as a string of lines),
so that schemathesis can send it."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")
