"""Unit tests: handlers called in-process against real PostgreSQL test databases."""

import pytest

from tests.support import databases

from eduplatform import db, settings
from eduplatform.principal import Role
from eduplatform.security import issue_token


@pytest.fixture(scope="session")
def unit_database_urls() -> dict[str, str]:
    return {}


def _use_domain_database(domain: str, urls: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    if domain not in urls:
        urls[domain] = databases.prepare("test", domain)
    url = urls[domain]
    databases.truncate_all(url)
    monkeypatch.setenv("DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.reset_database()
    return url


@pytest.fixture
def domain_database(unit_database_urls, monkeypatch):
    """Point DATABASE_URL at the (emptied) test database of a domain: domain_database("course")."""

    def use(domain: str) -> str:
        return _use_domain_database(domain, unit_database_urls, monkeypatch)

    yield use
    db.reset_database()
    settings.get_settings.cache_clear()


@pytest.fixture
def token_for():
    """An access token for an arbitrary principal, as the identity domain would issue it."""

    def make(role: str | Role, user_id=None, is_verified: bool = True) -> str:
        import uuid

        return issue_token(user_id or uuid.uuid4(), Role(role), is_verified)

    return make
