"""Keyset cursors for list endpoints (docs/api.md, cursors).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eduplatform.db import Connection, one
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
    payload = _b64(
        json.dumps(
            {"v": VERSION, "q": bound_to, "k": [str(value) for value in sort_key]}, separators=(",", ":")
        ).encode()
    )
    return f"{payload}.{_b64(_signature(_key(), payload))}"


def decode(cursor: str, bound_to: str) -> list[str]:
    """The sort key a cursor carries, once its signature and its query are checked."""
    payload, _, signature = cursor.partition(".")
    try:
        given = _unb64(signature)
        if not hmac.compare_digest(given, _signature(_key(), payload)):
            raise InvalidCursor
        content = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc
    if not isinstance(content, dict) or content.get("v") != VERSION or content.get("q") != bound_to:
        raise InvalidCursor
    keys = content.get("k")
    if not isinstance(keys, list) or not all(isinstance(value, str) for value in keys):
        raise InvalidCursor
    return keys


# ---- keyset orders -----------------------------------------------------------------------------------------------

KEY_TYPES: dict[str, Callable[[str], Any]] = {"timestamptz": datetime.fromisoformat, "numeric": Decimal, "integer": int}


@dataclass(frozen=True)
class KeysetOrder:
    """A list's total order: a key (a column or an expression) and a direction, ties broken by id
    in the same direction. Each list's order is exactly that of one of its indexes, so the rows
    after a cursor's (key, id) are one row comparison, an index condition of that index.

    ``row_key`` is the field of a selected row that holds the key (the key itself when it is a column).
    """

    key: str
    descending: bool
    key_type: str = "timestamptz"  # the key's SQL type, for a cursor's values
    row_key: str = ""

    @property
    def order_by(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"ORDER BY {self.key} {direction}, id {direction}"

    @property
    def after(self) -> str:
        """The condition selecting the rows after a cursor's (key, id); parameters ``after_key`` and ``after_id``."""
        return (
            f"({self.key}, id) {'<' if self.descending else '>'} (%(after_key)s::{self.key_type}, %(after_id)s::uuid)"
        )

    def parse(self, values: list[str]) -> dict[str, Any]:
        """The parameters of ``after`` for a cursor's (key, id); ValueError when they are not values of their types."""
        if len(values) != 2:
            raise ValueError("a cursor holds a key and an id")
        key = KEY_TYPES[self.key_type](values[0])
        if isinstance(key, datetime) and key.tzinfo is None:
            raise ValueError("a cursor's timestamp has a time zone")
        if isinstance(key, Decimal) and not key.is_finite():
            raise ValueError("not a finite number")
        return {"after_key": key, "after_id": UUID(values[1])}

    def after_cursor(self, cursor: str | None, bound_to: str) -> dict[str, Any]:
        """The parameters of ``after`` for a cursor (empty without one); InvalidCursor when it is not valid."""
        if cursor is None:
            return {}
        try:
            return self.parse(decode(cursor, bound_to))
        except (ArithmeticError, ValueError) as exc:  # InvalidCursor is a ValueError; Decimal's errors are not
            raise InvalidCursor from exc

    def page(self, rows: list[dict[str, Any]], limit: int, bound_to: str) -> tuple[list[dict[str, Any]], str | None]:
        """Rows read with LIMIT limit + 1: the page's rows and the cursor after them (None on the last page)."""
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        key = rows[-1][self.row_key or self.key]
        return rows, encode(bound_to, [key.isoformat() if isinstance(key, datetime) else key, rows[-1]["id"]])


# What most lists are: newest first by created_at.
NEWEST_FIRST = KeysetOrder("created_at", descending=True)
OLDEST_FIRST = KeysetOrder("created_at", descending=False)


@dataclass(frozen=True)
class KeysetList:
    """A list endpoint's rows: ``columns`` of the rows of ``table`` matching ``where`` (named
    parameters), in ``order``; a page by offset, or after a cursor's row."""

    table: str
    columns: str
    where: str
    order: KeysetOrder = NEWEST_FIRST

    def page_statement(self, after_cursor: bool) -> str:
        keyset = f" AND {self.order.after}" if after_cursor else ""
        return (
            f"SELECT {self.columns} FROM {self.table} WHERE {self.where}{keyset} {self.order.order_by} "
            "LIMIT %(limit)s OFFSET %(offset)s"
        )

    def read(
        self, conn: Connection, params: dict[str, Any], limit: int, offset: int, after: dict[str, Any], with_total: bool
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` rows after ``offset`` rows or after the cursor's row (``after``), and the total when asked."""
        rows = conn.execute(
            self.page_statement(bool(after)), {**params, **after, "limit": limit, "offset": offset}
        ).fetchall()
        if not with_total:
            return rows, None
        total: int = one(conn.execute(f"SELECT count(*) AS n FROM {self.table} WHERE {self.where}", params))["n"]
        return rows, total
