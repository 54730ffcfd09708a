"""The web app as the e2e stack serves it: its private bucket behind its CloudFront distribution.

The emulator serves a distribution at http://<label>.cloudfront.localhost:4566/. Browsers and curl
resolve *.localhost to the loopback address by themselves; Python's resolver does not, so these
requests go to the emulator's address with the distribution's host name in the Host header.
"""

import json
import re
from urllib.parse import urlsplit

import pytest
import requests

from infra import web
from infra.config import EMULATOR_URL
from infra.local.aws import aws_client, stack_outputs
from tests.e2e.conftest import E2E_STACK, wait_for_email


class Distribution:
    def __init__(self, app_url: str) -> None:
        self.app_url = app_url
        self.host = urlsplit(app_url).netloc

    def get(self, path: str, **kwargs) -> requests.Response:
        headers = {"Host": self.host, **kwargs.pop("headers", {})}
        return requests.get(f"{EMULATOR_URL}{path}", headers=headers, timeout=30, allow_redirects=False, **kwargs)


@pytest.fixture(scope="module")
def outputs(api) -> dict[str, str]:
    found = stack_outputs(E2E_STACK)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def distribution(outputs) -> Distribution:
    return Distribution(outputs["WebAppUrl"])


def test_the_app_is_served_from_its_distribution_with_the_right_headers(distribution):
    assert re.fullmatch(r"http://d[a-z0-9]+\.cloudfront\.localhost:4566", distribution.app_url)
    index = distribution.get("/")
    assert index.status_code == 200, index.text
    assert index.headers["Content-Type"].startswith("text/html")
    assert index.headers["Cache-Control"] == web.REVALIDATE
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' http://localhost:4566" in csp
    assert index.headers["X-Frame-Options"] == "DENY" and index.headers["X-Content-Type-Options"] == "nosniff"
    scripts = re.findall(r'<script[^>]+src="(/assets/[^"]+\.js)"', index.text)
    assert scripts, index.text
    asset = distribution.get(scripts[0])
    assert asset.status_code == 200
    assert asset.headers["Content-Type"].startswith("text/javascript")
    assert asset.headers["Cache-Control"] == web.IMMUTABLE


def test_a_deep_link_is_answered_with_the_app(distribution):
    index = distribution.get("/").text
    for path in ("/courses/00000000-0000-0000-0000-000000000000", "/lessons/x/y", "/no-such-page"):
        page = distribution.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert page.text == index


def test_the_app_is_told_where_the_api_is(api, distribution):
    config = distribution.get("/config.json")
    assert config.status_code == 200 and config.headers["Cache-Control"] == web.REVALIDATE
    assert config.json() == {"apiUrl": api.url}


def test_the_bucket_is_private(outputs):
    # The emulator serves any object to an anonymous GET, so what is checked is what AWS enforces:
    # every public access blocked, and a policy that lets only this distribution read.
    bucket = outputs["WebBucketName"]
    blocked = aws_client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert blocked == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    policy = json.loads(aws_client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(
        f"distribution/{outputs['WebDistributionId']}"
    )


def test_the_api_answers_the_apps_origin_and_no_other(api, distribution):
    allowed = api.request("GET", "/courses", headers={"Origin": distribution.app_url})
    assert allowed.headers.get("Access-Control-Allow-Origin") == distribution.app_url
    foreign = api.request("GET", "/courses", headers={"Origin": "https://elsewhere.example.com"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = api.request(
        "OPTIONS",
        "/login",
        headers={
            "Origin": distribution.app_url,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == distribution.app_url


def test_the_emails_link_to_the_app(distribution, register_user):
    user = register_user()
    email = wait_for_email(user.email, 1)
    assert f"{distribution.app_url}/verify-email?token=" in email["BodyText"], email["BodyText"]


def test_a_second_publish_uploads_nothing(api, outputs):
    files = web.bundle(web.DIST_DIR, api.url)
    changed, stale = web.upload(aws_client("s3"), outputs["WebBucketName"], files)
    assert (changed, stale) == ([], [])
