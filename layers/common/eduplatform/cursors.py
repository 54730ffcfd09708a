"""Keyset cursors for list endpoints (API.md version 2, "Cursors").

A cursor is ``<payload>.<signature>``, both base64url: the payload is the sort key of the last
item a page returned (its values as strings, e.g. ``["2026-11-27T12:00:00.123456+00:00", "<id>"]``)
and the fingerprint of the query it belongs to (the endpoint and every parameter but the page);
the signature is an HMAC-SHA256 of the payload with the deployment's key (``CURSOR_SIGNING_KEY``,
template parameter ``CursorSigningKey``). A modified cursor fails the signature, a cursor of
another query or endpoint fails the fingerprint; both are ``InvalidCursor`` (422 for the client).

Keyset paging reads the rows after that key in the list's total order (ties broken by id), so
a page costs the same however deep it is, and rows inserted meanwhile never shift the pages: a
row that existed when paging began is returned exactly once.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eduplatform.settings import get_settings

VERSION = 1
SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach, and the cursor stays short
# Long enough for any list's key (a timestamp or a number and a UUID), with room to spare.
CURSOR_MAX_LENGTH = 512
CURSOR_PATTERN = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"
INVALID = "Invalid cursor: it was modified, or it belongs to another list or query (start again without one)"


class InvalidCursor(ValueError):
    def __init__(self, reason: str = INVALID) -> None:
        super().__init__(reason)


def fingerprint(endpoint: str, parameters: dict[str, Any]) -> str:
    """What a cursor is bound to: the endpoint and the parameters that select and order its list."""
    canonical = json.dumps([endpoint, parameters], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, payload: str) -> bytes:
    return hmac.new(key.encode(), f"cursor:v{VERSION}:{payload}".encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]


def _key() -> str:
    key = get_settings().cursor_signing_key
    if not key:
        raise RuntimeError("CURSOR_SIGNING_KEY is not configured (template parameter CursorSigningKey)")
    return key


def encode(bound_to: str, sort_key: Sequence[Any]) -> str:
    """A cursor after the item whose sort key is ``sort_key``, for the query ``bound_to`` (a fingerprint)."""
    payload = _b64(json.dumps({"v": VERSION, "q": bound_to, "k": [str(value) for value in sort_key]},
                              separators=(",", ":")).encode())
    return f"{payload}.{_b64(_signature(_key(), payload))}"


def decode(cursor: str, bound_to: str) -> list[str]:
    """The sort key a cursor carries, once its signature and its query are checked."""
    payload, _, signature = cursor.partition(".")
    try:
        given = _unb64(signature)
        if not hmac.compare_digest(given, _signature(_key(), payload)):
            raise InvalidCursor()
        content = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(content, dict) or content.get("v") != VERSION or content.get("q") != bound_to:
        raise InvalidCursor()
    keys = content.get("k")
    if not isinstance(keys, list) or not all(isinstance(value, str) for value in keys):
        raise InvalidCursor()
    return keys


# ---- newest-first lists (created_at DESC, id DESC): what most list endpoints are -----------------------------

NEWEST_FIRST_AFTER = "(created_at, id) < (%(after_created_at)s, %(after_id)s)"


def newest_first_after(cursor: str | None, bound_to: str) -> dict[str, Any]:
    """The parameters of NEWEST_FIRST_AFTER for a cursor (empty without one); InvalidCursor when it is not valid."""
    if cursor is None:
        return {}
    values = decode(cursor, bound_to)
    try:
        if len(values) != 2:
            raise ValueError("a newest-first cursor holds a timestamp and an id")
        created_at = datetime.fromisoformat(values[0])
        if created_at.tzinfo is None:
            raise ValueError("a cursor's timestamp has a time zone")
        return {"after_created_at": created_at, "after_id": UUID(values[1])}
    except ValueError as exc:
        raise InvalidCursor() from exc


def newest_first_page(rows: list[dict[str, Any]], limit: int, bound_to: str) -> tuple[list[dict[str, Any]], str | None]:
    """Rows read with LIMIT limit + 1: the page's rows and the cursor after them (None on the last page)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(bound_to, [rows[-1]["created_at"].isoformat(), rows[-1]["id"]])
