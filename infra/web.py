"""The web app (web/): built with npm, uploaded to the stack's bucket, served by its CloudFront distribution.

The build runs only when web/'s sources (or the OpenAPI document its API types come from) changed
since the last one; the upload sends only the files whose content differs from the bucket's, with
the Cache-Control each kind needs: fingerprinted assets (web/dist/assets/) are cached for a year,
everything else (index.html, config.json) is revalidated on every load. ``config.json`` tells the
app where the API is, so one build serves every stack. Old assets stay in the bucket, for pages
still open on the previous build.

    python -m infra.web url [--stack NAME]       # the app's address (the stack's WebAppUrl output)
    python -m infra.web publish [--stack NAME]   # build if needed, upload, print the address
    python -m infra.web publish --aws --stack NAME   # the same against AWS (the default credentials)
    python -m infra.web build                    # web/dist, built if needed
    python -m infra.web install                  # npm ci, when package-lock.json changed since the last
    python -m infra.web record-build             # web/dist was built from these sources (the compose image)

Locally (no --aws) the emulator of EMULATOR_URL is the AWS, as for the rest of infra/local.
"""

import argparse
import hashlib
import json
import mimetypes
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.config import EMULATOR_URL, ROOT, stack_name

WEB_DIR = ROOT / "web"
DIST_DIR = WEB_DIR / "dist"
OPENAPI_DOCUMENT = ROOT / "docs" / "openapi.json"
# The digest of the sources a build was made from, kept in the build (never uploaded: dot files are not).
BUILD_MARKER = DIST_DIR / ".sources.sha256"
# What npm ci installed from, beside what it installed (npm keeps node_modules/.package-lock.json too,
# in its own format).
INSTALL_MARKER = WEB_DIR / "node_modules" / ".installed-lock.sha256"
CONFIG_OBJECT = "config.json"
ASSETS_PREFIX = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
# Not part of the app: what npm and the build leave in web/.
NOT_SOURCES = {"node_modules", "dist", "coverage"}


class WebBuildError(SystemExit):
    pass


def log(message: str) -> None:
    print(f"[web] {message}", file=sys.stderr, flush=True)


def source_files() -> list[Path]:
    """web/'s own files (not node_modules, the build or what the build generates) and the OpenAPI document."""
    ignored = set()
    gitignore = WEB_DIR / ".gitignore"
    if gitignore.exists():
        ignored = {
            line.strip().strip("/")
            for line in gitignore.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
    files = [
        path
        for path in WEB_DIR.rglob("*")
        if path.is_file()
        and not NOT_SOURCES.intersection(path.relative_to(WEB_DIR).parts)
        and str(path.relative_to(WEB_DIR)) not in ignored
        and path.name not in ignored
    ]
    return [*sorted(files), OPENAPI_DOCUMENT]


def sources_digest() -> str:
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def npm(*arguments: str) -> None:
    if shutil.which("npm") is None:
        raise WebBuildError(
            "the web app needs Node.js 20 and npm on PATH (https://nodejs.org, or `apt-get install nodejs npm`)"
        )
    result = subprocess.run(["npm", *arguments], cwd=WEB_DIR, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write((result.stdout + result.stderr)[-4000:])
        raise WebBuildError(f"npm {' '.join(arguments)} failed in web/ (exit {result.returncode})")


def install_dependencies() -> None:
    """`npm ci` when node_modules is missing or was installed from another package-lock.json."""
    lock_digest = hashlib.sha256((WEB_DIR / "package-lock.json").read_bytes()).hexdigest()
    if INSTALL_MARKER.exists() and INSTALL_MARKER.read_text() == lock_digest:
        return
    started = time.monotonic()
    npm("ci", "--no-audit", "--no-fund")
    INSTALL_MARKER.write_text(lock_digest)
    log(f"npm ci: {time.monotonic() - started:.1f}s")


def build_is_current(digest: str | None = None) -> bool:
    digest = digest or sources_digest()
    return BUILD_MARKER.exists() and BUILD_MARKER.read_text() == digest and (DIST_DIR / "index.html").exists()


def build() -> Path:
    """web/dist, rebuilt when the sources changed since the last build."""
    digest = sources_digest()
    if build_is_current(digest):
        return DIST_DIR
    install_dependencies()
    started = time.monotonic()
    npm("run", "build")
    BUILD_MARKER.write_text(digest)
    log(f"web build: {time.monotonic() - started:.1f}s")
    return DIST_DIR


def content_type(key: str) -> str:
    suffix = Path(key).suffix
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if key.startswith(ASSETS_PREFIX) else REVALIDATE


def app_config(api_url: str) -> bytes:
    """config.json: what the app reads before its first request."""
    return json.dumps({"apiUrl": api_url.rstrip("/")}, indent=1).encode() + b"\n"


def bundle(dist: Path, api_url: str) -> dict[str, bytes]:
    """Object key -> content of everything the bucket should hold."""
    files = {
        str(path.relative_to(dist)): path.read_bytes()
        for path in sorted(dist.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }
    files[CONFIG_OBJECT] = app_config(api_url)
    return files


def bucket_etags(s3: Any, bucket: str) -> dict[str, str]:
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def upload(s3: Any, bucket: str, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Put the objects whose content differs from the bucket's, delete the old non-asset ones: (put, deleted)."""
    present = bucket_etags(s3, bucket)
    changed = [key for key, content in files.items() if present.get(key) != hashlib.md5(content).hexdigest()]
    # index.html last: a page loaded mid-upload never names an asset that is not there yet.
    for key in sorted(changed, key=lambda key: key == "index.html"):
        s3.put_object(
            Bucket=bucket, Key=key, Body=files[key], ContentType=content_type(key), CacheControl=cache_control(key)
        )
    stale = [key for key in present if key not in files and not key.startswith(ASSETS_PREFIX)]
    if stale:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in stale]})
    return changed, stale


def invalidate(cloudfront: Any, distribution_id: str, keys: list[str]) -> None:
    """Drop the revalidated objects the upload changed from the edge caches (assets are new names)."""
    paths = sorted(
        {f"/{key}" for key in keys if not key.startswith(ASSETS_PREFIX)} | ({"/"} if "index.html" in keys else set())
    )
    if paths:
        cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": str(time.time_ns()),
            },
        )


def publish(outputs: dict[str, str], api_url: str, client: Callable[[str], Any]) -> str:
    """Build if needed and upload to the stack of these outputs: the app's address."""
    missing = {"WebBucketName", "WebDistributionId", "WebAppUrl"} - outputs.keys()
    if missing:
        raise WebBuildError(
            f"the stack has no web app outputs ({', '.join(sorted(missing))}): deploy the current template first"
        )
    started = time.monotonic()
    files = bundle(build(), api_url)
    changed, stale = upload(client("s3"), outputs["WebBucketName"], files)
    if changed or stale:
        invalidate(client("cloudfront"), outputs["WebDistributionId"], changed + stale)
        log(f"uploaded {len(changed)} of {len(files)} files, removed {len(stale)} ({time.monotonic() - started:.1f}s)")
    return outputs["WebAppUrl"]


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete every object (a stack's bucket must be empty before the stack can be deleted)."""
    keys = list(bucket_etags(s3, bucket))
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys[start : start + 1000]]})


def aws_outputs(name: str) -> dict[str, str]:
    import boto3

    (stack,) = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and upload the web app")
    parser.add_argument("command", choices=["url", "publish", "build", "install", "record-build"])
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    parser.add_argument("--aws", action="store_true", help="the stack on AWS (default credentials), not the emulator")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build())
        return 0
    if args.command == "install":
        install_dependencies()
        return 0
    if args.command == "record-build":
        if not (DIST_DIR / "index.html").exists():
            raise SystemExit("web/dist has no build to record: run `npm run build` in web/ first")
        BUILD_MARKER.write_text(sources_digest())
        return 0
    if args.aws:
        import boto3

        outputs = aws_outputs(args.stack)
        api_url, client = outputs["ApiUrl"], boto3.client
    else:
        from infra.local.aws import aws_client, stack_outputs
        from infra.local.deploy import api_url as local_api_url

        found = stack_outputs(args.stack)
        if found is None:
            raise SystemExit(f"stack {args.stack} is not deployed on {EMULATOR_URL}: run `make up`")
        outputs, client = found, aws_client
        api_url = local_api_url(args.stack) if args.command == "publish" else ""
    if args.command == "url":
        if "WebAppUrl" not in outputs:
            raise SystemExit(f"stack {args.stack} has no web app: run `make up`")
        print(outputs["WebAppUrl"])
        return 0
    print(publish(outputs, api_url, client))
    return 0


if __name__ == "__main__":
    sys.exit(main())
