"""GET /docs in a real headless browser: Debian's chromium, driven by Playwright.

The page must load with nothing fetched from outside the API and no error in the console, list
every operation of docs/openapi.json, take a bearer token through Authorize, and "Try it out"
must reach the API: GET /courses answers 200, and GET /me with the token too. The screenshot
of the loaded page is left in .local/swagger-ui.png (docs/swagger-ui.png is a copy of one).
"""

import json
import os
import shutil
from urllib.parse import urlsplit

import pytest

from infra.config import ROOT

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
SCREENSHOT = ROOT / ".local" / "swagger-ui.png"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail(
            "the Swagger UI test needs chromium: `make test-tools` installs it as root "
            "(or run `sudo apt-get install chromium`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, whom chromium's sandbox refuses.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def docs_page(api, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    problems: list[str] = []
    api_origin = "{0.scheme}://{0.netloc}".format(urlsplit(api.url))
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on(
        "request",
        lambda request: (
            problems.append(f"request outside the API: {request.url}")
            if not request.url.startswith((api_origin, "data:"))
            else None
        ),
    )
    page.goto(f"{api.url}/docs", wait_until="load")
    page.wait_for_selector(".opblock", timeout=30_000)
    yield page, problems
    page.close()


def operation(page, method: str, path: str):
    spec = DOCUMENT["paths"][path][method]
    return page.locator(f"#operations-{spec['tags'][0]}-{spec['operationId']}")


def try_it_out(page, method: str, path: str) -> str:
    """Open an operation, press Try it out and Execute; the status of the response shown."""
    block = operation(page, method, path)
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=30_000)
    return status.inner_text().strip()


def test_the_page_lists_every_operation_of_the_document_without_errors(docs_page):
    page, problems = docs_page
    listed = page.eval_on_selector_all(
        ".opblock",
        "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent,"
        " b.querySelector('.opblock-summary-path').getAttribute('data-path')])",
    )
    documented = sorted([method.upper(), path] for path, item in DOCUMENT["paths"].items() for method in item)
    assert sorted(listed) == documented
    # The bearer scheme: an Authorize button, and a lock on the operations that take a token.
    assert page.locator("button.authorize").count() == 1
    assert operation(page, "get", "/me").locator(".authorization__btn").count() == 1
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert problems == []


def test_try_it_out_reaches_the_api(docs_page, admin_token):
    page, problems = docs_page
    assert try_it_out(page, "get", "/courses") == "200"

    page.locator("button.authorize").click()
    dialog = page.locator(".auth-container").filter(has_text="bearerAuth")
    dialog.locator("input").fill(admin_token)
    dialog.locator("button.authorize").click()
    page.locator("button.btn-done").click()
    assert try_it_out(page, "get", "/me") == "200"
    assert problems == []
