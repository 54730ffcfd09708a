"""The local stack launcher behind `make up`, `make down` and `make url`: it composes the launcher's parts.

No Docker and no AWS account: the machine's PostgreSQL holds the five domain databases
(databases.py, through PgBouncer: pooler.py) and the emulator (emulator.py: MiniStack as
infra/emulator/ tunes it, on :4566, run from this project's Python 3.12) hosts Lambda, API
Gateway and the rest. SAM builds (build.py) and deploys (deploy.py) the app into the emulator,
the outbox relays start listening (relays.py), warm instances are started (warmup.py) and the
metrics bridge serves Prometheus (metrics_bridge.py).

Every step is idempotent, and the slow ones are skipped when nothing changed: the
build when the sources hash the same as last time, the deploy when the emulator still
has the stack deployed from that build.

    python -m infra.local.stack up [--warm N] | down | url | web-url | databases
"""

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

from infra.config import (
    DOMAINS,
    EMULATOR_URL,
    LISTEN_PARAMETER_FOR_DOMAIN,
    METRICS_PORT,
    PARAMETER_FOR_DOMAIN,
    POOLER_PORT,
    POSTGRES_ADMIN_URL,
    ROOT,
    local_database_urls,
    stack_name,
)
from infra.local import pooler, warmup
from infra.local.cache import check_cache
from infra.local.deploy import api_url, local_parameters, publish, web_app_url
from infra.local.emulator import EMULATOR_LOG, start_emulator, stop_emulator
from infra.local.metrics_bridge import METRICS_BRIDGE_LOG, start_metrics_bridge, stop_metrics_bridge
from infra.local.processes import connect_address, log
from infra.template.generate import read_template

# Warm instances `make up` leaves for each function: unset, as many as each needs under the
# seed's 100-user mix (warmup.py INSTANCES); `make up WARM_INSTANCES=0` skips warming.
WARM_INSTANCES = int(os.environ["WARM_INSTANCES"]) if os.environ.get("WARM_INSTANCES") else None


def prepare_databases(urls: dict[str, str]) -> None:
    # Imported here: psycopg costs ~0.25 s to import, which `make url` and `make down` never need.
    from infra.local import databases

    databases.prepare_databases(urls)


def deploy_stack(name: str, parameters: dict[str, str]) -> str:
    """Databases migrated, emulator running, app built and deployed, admin present: the API URL."""
    direct_urls = {domain: parameters[PARAMETER_FOR_DOMAIN[domain]] for domain in DOMAINS}
    prepare_databases(direct_urls)
    check_cache(parameters.get("CacheUrl", ""))
    if pooler.start(
        POSTGRES_ADMIN_URL, [urlsplit(url).username or "postgres" for url in direct_urls.values()] + ["postgres"]
    ):
        log(f"PgBouncer started on {connect_address()}:{POOLER_PORT} (log: {pooler.LOG_FILE.relative_to(ROOT)})")
    if start_emulator():
        log(f"MiniStack started on {EMULATOR_URL} (log: {EMULATOR_LOG.relative_to(ROOT)})")
    template_parameters = read_template()["Parameters"]
    function_parameters = {
        **parameters,
        **{PARAMETER_FOR_DOMAIN[d]: pooler.pooled_url(url) for d, url in direct_urls.items()},
        # The outbox relays' LISTEN bypasses PgBouncer, which does not carry notifications.
        **{
            LISTEN_PARAMETER_FOR_DOMAIN[d]: url
            for d, url in direct_urls.items()
            if LISTEN_PARAMETER_FOR_DOMAIN[d] in template_parameters
        },
    }
    return publish(name, function_parameters)


def warm_functions(stack: str, width: int | None) -> None:
    """Leave warm instances of every function that serves requests (warmup.py)."""
    if width == 0:
        return
    started = time.monotonic()
    widths = warmup.warm_stack(stack, width)
    log(f"warm instances: {sum(widths.values())} of {len(widths)} functions ({time.monotonic() - started:.1f}s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local EduPlatform stack")
    parser.add_argument("command", choices=["up", "down", "url", "web-url", "databases"])
    parser.add_argument(
        "--warm",
        type=int,
        default=WARM_INSTANCES,
        help="warm instances per function after `up` (default: each function's own number)",
    )
    args = parser.parse_args(argv)
    # STACK=<name> and <DOMAIN>_DB_URL=...: a second local stack on other databases (as `make migrate` takes them).
    name = os.environ.get("STACK") or stack_name("local")
    if args.command == "up":
        started = time.monotonic()
        url = deploy_stack(name, local_parameters())
        warm_functions(name, args.warm)
        if start_metrics_bridge(name):
            log(
                f"metrics bridge started on http://{connect_address()}:{METRICS_PORT}/metrics (log: {METRICS_BRIDGE_LOG.relative_to(ROOT)})"
            )
        log(f"ready in {time.monotonic() - started:.1f}s")
        print(f"API base URL: {url}")
        print(f"Web app:      {web_app_url(name)}")
    elif args.command == "url":
        print(api_url(name))
    elif args.command == "web-url":
        print(web_app_url(name))
    elif args.command == "databases":
        prepare_databases(local_database_urls())
    elif args.command == "down":
        stopped = [
            name
            for name, stop in (
                ("metrics bridge", stop_metrics_bridge),
                ("MiniStack", stop_emulator),
                ("PgBouncer", pooler.stop),
            )
            if stop()
        ]
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing started by `make up` is running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
