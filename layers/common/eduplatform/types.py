"""Field types shared by the API models: how timestamps and money look on the wire, and what
a client's strings and integers may be; and the models' base."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from eduplatform.text import refuse_markup, sanitise_html


class ApiModel(BaseModel):
    """The base of the request, response and event models: each builds its validator and serializer
    when first used, not when its module is imported. A domain's schemas module holds the models of
    all its routes; a cold start builds only those of the route it serves (and imports
    email-validator only for a route with an email address to check)."""

    model_config = ConfigDict(defer_build=True)


# ISO 8601 in UTC with an explicit offset, e.g. 2026-02-20T12:00:00+00:00 (pydantic's default
# writes "Z", and the session time zone of a pooled connection is not ours to set).
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.astimezone(UTC).isoformat(), return_type=str)]

# Money leaves the API as a decimal string with two places ("49.99").
Money = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str)]


# ---- what a client may send ----------------------------------------------------------------
# Every string and integer a request carries (body fields, query, path and header parameters)
# is one of these, so the bounds live here once and the OpenAPI document states them (the
# fuzzer generates from it). Text: PostgreSQL cannot store U+0000 and a lone surrogate
# ("\ud800" is valid JSON) cannot be encoded as UTF-8 for the database or the logs; other
# control characters mean nothing in a name or a title and are refused there too.

_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rules as JSON Schema patterns (ECMA-262), for the OpenAPI document.
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"
MULTI_LINE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def _refuse(forbidden: re.Pattern[str], message: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if forbidden.search(text):
            raise ValueError(message)
        return text

    return check


_refuse_single_line = _refuse(_SINGLE_LINE_FORBIDDEN, "Text must not contain control characters or unpaired surrogates")
_refuse_multi_line = _refuse(
    _MULTI_LINE_FORBIDDEN,
    "Text must not contain control characters (other than tab and line breaks) or unpaired surrogates",
)


# Each of these is the metadata of a text type, applied as ``Annotated[str, *single_line_text(...)]``
# (a type checker reads that as ``str``; pydantic and the OpenAPI document get every constraint).
TextRules = tuple[object, ...]


def single_line_text(max_length: int, min_length: int = 0, strip: bool = True) -> TextRules:
    """A name, title, email or search term: printable characters, no line breaks."""
    return (
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length),
        AfterValidator(_refuse_single_line),
        Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN}),
    )


def multi_line_text(max_length: int, min_length: int = 0) -> TextRules:
    """A description, comment, message body or lesson: tabs and line breaks allowed."""
    return (
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_refuse_multi_line),
        Field(json_schema_extra={"pattern": MULTI_LINE_PATTERN}),
    )


# Plain text (docs/api.md: stored text is plain text): the patterns above without markup, i.e. no
# `<` directly followed by a letter, `/` or `!` (written without lookahead, which not every
# JSON Schema tool reads): runs of `<` each followed by a character that may follow one.
PLAIN_SINGLE_LINE_PATTERN = "^([^<\\u0000-\\u001f\\u007f]|<+[^<A-Za-z/!\\u0000-\\u001f\\u007f])*<*$"
PLAIN_MULTI_LINE_PATTERN = (
    "^([^<\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]"
    "|<+[^<A-Za-z/!\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f])*<*$"
)


def plain_text(max_length: int, min_length: int = 0, multi_line: bool = False) -> TextRules:
    """A title, name or review comment: text with no markup (422 "Must be plain text ...")."""
    if multi_line:
        base, pattern = multi_line_text(max_length, min_length), PLAIN_MULTI_LINE_PATTERN
    else:
        base, pattern = single_line_text(max_length, min_length), PLAIN_SINGLE_LINE_PATTERN
    return (*base, AfterValidator(refuse_markup), Field(json_schema_extra={"pattern": pattern}))


def rich_text(max_length: int) -> TextRules:
    """A course description or lesson content: may hold markup, stored sanitised (eduplatform.text).

    ``max_length`` bounds what the client sends; the sanitised text is what is stored.
    """
    return (*multi_line_text(max_length), AfterValidator(sanitise_html))


# Integers a client sends have bounds inside their columns' types (e.g. minutes 0..1,000,000 in
# an `integer`; docs/reliability.md lists each). A list's offset: deeper than any list of this platform gets, far below `bigint`; bounding it
# keeps a request from asking the database to skip billions of rows.
OFFSET_MAX = 1_000_000
PAGE_SIZE_MAX = 100
# A price or an amount, stored as numeric(10, 2): a number or a decimal string ("49.99", 49.99),
# more than zero, at most two decimal places.
MONEY_MAX = Decimal("99999999.99")
MoneyAmount = Annotated[Decimal, Field(gt=0, le=MONEY_MAX, max_digits=10, decimal_places=2, allow_inf_nan=False)]
