"""Configuration of a function instance, read once from its environment."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings

DOMAINS = ("identity", "course", "enrollment", "payment", "notification")


class Settings(BaseSettings):
    """Environment variables, named as the original services named them.

    A function receives the URL of its own domain's database as DATABASE_URL and no
    other; only the health check receives every domain's URL (IDENTITY_DB_URL ...).
    """

    database_url: str | None = None
    jwt_secret: str = Field(min_length=32)
    jwt_algorithm: str = "HS256"
    jwt_ttl_seconds: int = Field(default=3600, gt=0)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    db_connect_timeout_seconds: int = Field(default=3, gt=0)

    identity_db_url: str | None = None
    course_db_url: str | None = None
    enrollment_db_url: str | None = None
    payment_db_url: str | None = None
    notification_db_url: str | None = None

    def domain_database_urls(self) -> dict[str, str | None]:
        return {domain: getattr(self, f"{domain}_db_url") for domain in DOMAINS}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
