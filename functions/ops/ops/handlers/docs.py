"""GET /docs: Swagger UI of the whole API, to read it and try it (Authorize takes an access token).

The page is Powertools' Swagger UI (``generate_swagger_html``, as ``enable_swagger`` builds it)
with its JavaScript and CSS inlined from the copy Powertools ships in the layer: nothing is
fetched from a CDN. ``enable_swagger`` itself would describe this function's own routes only,
so the page carries the whole API's document (`make openapi`, the one GET /openapi.json serves),
with a relative server: "Try it out" calls the API the page was served from, locally as on AWS.
``?format=json`` answers the document the page shows, as ``enable_swagger``'s page does.
"""

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from eduplatform.http import create_app, lambda_handler

from ops.handlers.openapi import DOCUMENT

app = create_app()
ASSETS = Path(swagger_ui.__file__).resolve().parent
# The page's own URL minus "docs": where the API is, whatever host and stage served the page.
SERVER = {"url": ".", "description": "The API this page is served from"}
# No request for /favicon.ico (an error in the browser's console wherever the host root has none).
NO_FAVICON = '<link rel="icon" href="data:,">'


class DocumentFormat(StrEnum):
    JSON = "json"


@cache
def _document() -> str:
    document = json.loads(DOCUMENT.read_text())
    document["servers"] = [SERVER]
    return json.dumps(document)


@cache
def _page() -> str:
    page = generate_swagger_html(
        _document().replace("</", "<\\/"),  # JSON inside a <script>: no "</script>" may end it early
        (ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=True,
    )
    return page.replace("<head>", f"<head>\n    {NO_FAVICON}", 1)


@app.get(
    "/docs",
    summary="Swagger UI of the whole API: read it, authorise with a token, try the operations",
    tags=["ops"],
    responses={
        200: {
            "description": "The Swagger UI page (or, with format=json, the document it shows)",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def docs(
    format: Annotated[DocumentFormat | None, Query(description="json: the OpenAPI document the page shows")] = None,
) -> Response[str]:
    if format is DocumentFormat.JSON:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_document())
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_page())


handler = lambda_handler(app)
