"""infra.web: what the web app's upload puts in the bucket, with which headers, and what it leaves alone."""

import json

import boto3
import pytest
from moto import mock_aws

from infra import web


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="web")
        yield client


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<script type="module" src="/assets/index-abc123.js"></script>')
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def test_each_kind_of_file_gets_its_content_type_and_cache_control(s3, dist):
    files = web.bundle(dist, "http://localhost:4566/_aws/execute-api/eduplatform/api/")
    changed, stale = web.upload(s3, "web", files)
    assert sorted(changed) == sorted(files) and stale == []
    heads = {key: s3.head_object(Bucket="web", Key=key) for key in files}
    assert heads["index.html"]["ContentType"].startswith("text/html")
    assert heads["index.html"]["CacheControl"] == "no-cache"
    assert heads["assets/index-abc123.js"]["ContentType"].startswith("text/javascript")
    assert heads["assets/index-abc123.js"]["CacheControl"] == "public, max-age=31536000, immutable"
    assert heads["assets/index-abc123.css"]["ContentType"].startswith("text/css")
    assert heads["favicon.svg"]["ContentType"] == "image/svg+xml"
    config = s3.get_object(Bucket="web", Key="config.json")
    assert config["CacheControl"] == "no-cache"
    assert json.loads(config["Body"].read()) == {"apiUrl": "http://localhost:4566/_aws/execute-api/eduplatform/api"}


def test_only_changed_files_are_sent_and_old_assets_stay_for_open_pages(s3, dist):
    web.upload(s3, "web", web.bundle(dist, "http://api"))
    assert web.upload(s3, "web", web.bundle(dist, "http://api")) == ([], [])
    (dist / "assets" / "index-abc123.js").unlink()
    (dist / "assets" / "index-def456.js").write_text("console.log(2)")
    (dist / "index.html").write_text('<script type="module" src="/assets/index-def456.js"></script>')
    (dist / "favicon.svg").unlink()
    changed, stale = web.upload(s3, "web", web.bundle(dist, "http://api"))
    assert sorted(changed) == ["assets/index-def456.js", "index.html"] and stale == ["favicon.svg"]
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="web")["Contents"]}
    assert "assets/index-abc123.js" in keys and "favicon.svg" not in keys


def test_index_html_goes_last_so_no_page_names_a_missing_asset(dist):
    class Recorder:
        def __init__(self):
            self.keys = []

        def get_paginator(self, name):
            return type("P", (), {"paginate": lambda self, **kw: [{}]})()

        def put_object(self, **kwargs):
            self.keys.append(kwargs["Key"])

    recorder = Recorder()
    web.upload(recorder, "web", web.bundle(dist, "http://api"))
    assert recorder.keys[-1] == "index.html" and len(recorder.keys) == 5


def test_an_upload_that_changed_revalidated_files_invalidates_them():
    calls = []

    class CloudFront:
        def create_invalidation(self, **kwargs):
            calls.append(kwargs)

    web.invalidate(CloudFront(), "E1", ["assets/a-1.js"])
    assert calls == []
    web.invalidate(CloudFront(), "E1", ["assets/a-1.js", "index.html", "config.json"])
    (call,) = calls
    assert call["DistributionId"] == "E1"
    assert call["InvalidationBatch"]["Paths"] == {"Quantity": 3, "Items": ["/", "/config.json", "/index.html"]}


def test_a_stack_without_the_web_outputs_is_refused_with_the_reason():
    with pytest.raises(SystemExit, match="no web app outputs"):
        web.publish({"ApiId": "x"}, "http://api", lambda service: None)


def test_the_build_is_redone_only_when_a_source_or_the_api_document_changed(tmp_path, monkeypatch):
    app = tmp_path / "web"
    (app / "src").mkdir(parents=True)
    (app / "node_modules").mkdir()
    (app / "src" / "main.tsx").write_text("x")
    (app / "node_modules" / "dep.js").write_text("y")
    (app / ".gitignore").write_text("node_modules\ndist\nsrc/api/schema.d.ts\n")
    document = tmp_path / "openapi.json"
    document.write_text("{}")
    monkeypatch.setattr(web, "ROOT", tmp_path)
    monkeypatch.setattr(web, "WEB_DIR", app)
    monkeypatch.setattr(web, "OPENAPI_DOCUMENT", document)
    first = web.sources_digest()
    (app / "node_modules" / "dep.js").write_text("changed")
    (app / "src" / "api").mkdir()
    (app / "src" / "api" / "schema.d.ts").write_text("generated")
    assert web.sources_digest() == first
    document.write_text('{"paths": {}}')
    assert web.sources_digest() != first
