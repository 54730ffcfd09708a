"""The one-shot deployer of docker-compose.yml: migrate, build, deploy, upload the web app, print the URLs.

Runs in the project image once the databases and the emulator are healthy. The databases
are compose services that already have their database and role, so unlike `make up` there
is nothing to create, no PgBouncer and no emulator to start: the same launcher
(infra/local/deploy.py) builds and deploys with samconfig's ``compose`` environment.

    python -m infra.compose.deploy        # migrate, build, deploy, bootstrap the admin
    python -m infra.compose.deploy url    # the API base URL as the host reaches it
"""

import argparse
import os
import sys

from infra.config import DOMAINS, EMULATOR_URL, PARAMETER_FOR_DOMAIN, deploy_parameters, stack_name
from infra.local.deploy import api_url, publish, web_app_url
from infra.local.processes import log
from infra.migrate import migrate

CONFIG_ENV = "compose"
# The emulator as the host sees it (the published port), for the URL printed to the user.
PUBLIC_EMULATOR_URL = os.environ.get("PUBLIC_EMULATOR_URL", "http://localhost:4566")


def public_url(url: str) -> str:
    """An API URL on the compose network, rewritten for the host."""
    return PUBLIC_EMULATOR_URL + url.removeprefix(EMULATOR_URL)


def deploy() -> str:
    parameters = deploy_parameters(CONFIG_ENV)
    for domain in DOMAINS:
        applied = migrate(domain, parameters[PARAMETER_FOR_DOMAIN[domain]])
        log(f"{domain} database: {', '.join(applied) or 'up to date'}")
    return publish(stack_name(CONFIG_ENV), parameters, CONFIG_ENV, browser_emulator_url=PUBLIC_EMULATOR_URL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy EduPlatform into the docker compose emulator")
    parser.add_argument("command", nargs="?", choices=["deploy", "url"], default="deploy")
    args = parser.parse_args(argv)
    if args.command == "deploy":
        url = deploy()
        print(f"API base URL: {public_url(url)}  (inside the compose network: {url})", flush=True)
        print(f"Web app:      {web_app_url(stack_name(CONFIG_ENV))}", flush=True)
    else:
        print(public_url(api_url(stack_name(CONFIG_ENV))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
