"""Where the local tooling reads its configuration: samconfig.toml's ``local`` environment.

The deploy parameters there (database URLs, JWT secret, admin account) are the one
source for the launcher, the migrations and the seed; tests derive their own isolated
databases from the same server. Inside docker compose, EDUPLATFORM_CONFIG_ENV=compose
makes the same tools (migrations, seed, metrics bridge) read the ``compose`` environment.
"""

import os
import shlex
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("identity", "course", "enrollment", "payment", "notification")
PARAMETER_FOR_DOMAIN = {domain: f"{domain.capitalize()}DatabaseUrl" for domain in DOMAINS}
# The direct connection a domain's outbox relay listens on (template parameters of the domains that have one).
LISTEN_PARAMETER_FOR_DOMAIN = {domain: f"{domain.capitalize()}ListenDatabaseUrl" for domain in DOMAINS}
CONFIG_ENV = os.environ.get("EDUPLATFORM_CONFIG_ENV", "local")
EMULATOR_URL = os.environ.get("EMULATOR_URL", "http://localhost:4566")
# The address every local service listens on (the emulator, PgBouncer, the metrics bridge): the
# loopback interface unless this says otherwise. docker compose sets 0.0.0.0 inside its containers
# and publishes their ports on the host's 127.0.0.1 only.
LOCAL_BIND_ADDRESS = os.environ.get("LOCAL_BIND_ADDRESS", "127.0.0.1")
# Where the local functions reach PostgreSQL: PgBouncer (infra/local/pooler.py).
POOLER_PORT = int(os.environ.get("POOLER_PORT", "6433"))
# Where `make up`'s metrics bridge serves Prometheus (infra/prometheus/prometheus.yml scrapes 9108).
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9108"))
# The server on which databases and roles are created (a superuser; trust auth locally).
POSTGRES_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@cache
def samconfig(env: str = "local") -> dict:
    with open(ROOT / "samconfig.toml", "rb") as handle:
        return tomllib.load(handle)[env]


def deploy_parameters(env: str = "local") -> dict[str, str]:
    """The ``parameter_overrides`` of a samconfig environment, as a dict."""
    raw = samconfig(env)["deploy"]["parameters"]["parameter_overrides"]
    items = raw if isinstance(raw, list) else shlex.split(raw)
    return dict(item.split("=", 1) for item in items)


def stack_name(env: str = "local") -> str:
    return samconfig(env)["global"]["parameters"]["stack_name"]


def local_database_urls() -> dict[str, str]:
    parameters = deploy_parameters(CONFIG_ENV)
    return {domain: parameters[PARAMETER_FOR_DOMAIN[domain]] for domain in DOMAINS}


def with_database(url: str, database: str, user: str | None = None) -> str:
    """The same server URL pointing at another database (and optionally another role)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))
