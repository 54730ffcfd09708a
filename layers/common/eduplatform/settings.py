"""Configuration of a function instance, read once from its environment."""

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DOMAINS = ("identity", "course", "enrollment", "payment", "notification")


class Settings(BaseSettings):
    """Environment variables, named as the original services named them.

    A function receives the URL of its own domain's database as DATABASE_URL and no
    other; only the health check receives every domain's URL (IDENTITY_DB_URL ...).

    The JWT secret is JWT_SECRET itself (emulators, tests) or, when that is empty, the
    SSM SecureString named by JWT_SECRET_PARAMETER, read at runtime (AWS).
    """

    # The template passes every parameter, so an unused one arrives as an empty string.
    model_config = SettingsConfigDict(env_ignore_empty=True)

    database_url: str | None = None
    jwt_secret: str | None = Field(default=None, min_length=32)
    jwt_secret_parameter: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_ttl_seconds: int = Field(default=3600, gt=0)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    db_connect_timeout_seconds: int = Field(default=3, gt=0)
    # Redis for the hot public reads (eduplatform.cache); none when empty. The prefix keeps the
    # stacks sharing one Redis (local, e2e, load test) apart.
    cache_url: str | None = None
    cache_key_prefix: str = ""
    # HMAC key of list cursors (eduplatform.cursors): template parameter CursorSigningKey.
    cursor_signing_key: str | None = Field(default=None, min_length=32)

    identity_db_url: str | None = None
    course_db_url: str | None = None
    enrollment_db_url: str | None = None
    payment_db_url: str | None = None
    notification_db_url: str | None = None

    @model_validator(mode="after")
    def _jwt_secret_has_a_source(self) -> "Settings":
        if self.jwt_secret is None and self.jwt_secret_parameter is None:
            raise ValueError("set JWT_SECRET or JWT_SECRET_PARAMETER")
        return self

    def domain_database_urls(self) -> dict[str, str | None]:
        return {domain: getattr(self, f"{domain}_db_url") for domain in DOMAINS}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
