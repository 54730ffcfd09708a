"""The platform's text policy (docs/api.md: stored text is plain text), in one place.

- Plain-text fields (titles, names, review comments) are refused when they hold markup: ``<``
  followed by a letter, ``/`` or ``!`` (a tag, a closing tag, a comment or doctype). ``a < b``
  and ``<3`` stay allowed. The request types are ``eduplatform.types.plain_text``.
- Rich-text fields (course descriptions, lesson content) may hold markup and are stored
  **sanitised** at write time with nh3 (Python bindings of the Rust ``ammonia`` sanitiser, an
  allow-list HTML5 parser): only the formatting tags and attributes below survive; scripts and
  styles go with their content, event handlers and ``style`` attributes are dropped, links keep
  only http(s) and mailto URLs and get ``rel="noopener noreferrer nofollow"``. What is returned
  is what was stored, so a front end can render it as HTML. Why nh3 rather than bleach: bleach
  is deprecated (security fixes only, html5lib underneath is unmaintained) and nh3 is its
  recommended successor, a parser that follows the HTML5 spec and is much faster.
"""

import re

import nh3

# `<` followed by a letter, `/` or `!`: the start of a tag, end tag, comment or doctype.
MARKUP = re.compile(r"<[A-Za-z/!]")
MARKUP_REFUSED = "Must be plain text: markup ('<' followed by a letter, '/' or '!') is not allowed"

# The allow-list of rich text: formatting only.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Elements dropped together with everything inside them (not only their tags).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "template",
        "noscript",
        "textarea",
        "title",
        "select",
    }
)
LINK_REL = "noopener noreferrer nofollow"


def has_markup(text: str) -> bool:
    return MARKUP.search(text) is not None


def refuse_markup(text: str) -> str:
    """A pydantic AfterValidator of plain-text fields."""
    if has_markup(text):
        raise ValueError(MARKUP_REFUSED)
    return text


def sanitise_html(text: str) -> str:
    """Rich text as stored and returned: the allow-listed formatting of ``text``, nothing else."""
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
