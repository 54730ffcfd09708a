"""Configuration of a function instance, read once from its environment.

A pydantic model validated from the process environment: each field from the variable of its
name (in any case), an empty variable counting as unset. Not pydantic-settings: its import (dotenv,
argparse, its other sources) and its reading of the environment were ~20 ms of every cold start,
for what is one pass over ``os.environ``.
"""

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field, model_validator

DOMAINS = ("identity", "course", "enrollment", "payment", "notification")


class Settings(BaseModel):
    """Environment variables, named as the original services named them.

    A function receives the URL of its own domain's database as DATABASE_URL and no
    other; only the health check receives every domain's URL (IDENTITY_DB_URL ...).

    The JWT secret is JWT_SECRET itself (emulators, tests) or, when that is empty, the
    SSM SecureString named by JWT_SECRET_PARAMETER, read at runtime (AWS); the database URLs and
    the admin password likewise (``<NAME>_PARAMETER``, read through eduplatform.secrets).
    """

    database_url: str | None = None
    # The outbox relays' LISTEN connection: a direct one to the domain's database (no pooler, no
    # RDS Proxy: neither carries notifications). Empty: DATABASE_URL, polled if it cannot notify.
    listen_database_url: str | None = None
    jwt_secret: str | None = Field(default=None, min_length=32)
    jwt_secret_parameter: str | None = None
    # The secret before the last rotation, still accepted (never signs): the value itself
    # (emulators, tests) or the SSM SecureString naming it; both empty: none.
    jwt_previous_secret: str | None = Field(default=None, min_length=32)
    jwt_previous_secret_parameter: str | None = None
    # How long an instance keeps the secrets it read from SSM before reading them again: a rotated
    # secret signs everywhere within this time (JwtSecretMaxAgeSeconds, docs/deploy.md).
    jwt_secret_max_age_seconds: int = Field(default=300, gt=0)
    # The `iss` of every token: the stack's name on AWS (TOKEN_ISSUER); a token of another stack is refused.
    token_issuer: str = "eduplatform"
    jwt_algorithm: str = "HS256"
    # The access token's lifetime (`expires_in`, default 900 s).
    jwt_ttl_seconds: int = Field(default=900, gt=0)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    db_connect_timeout_seconds: int = Field(default=3, gt=0)
    # Redis for the hot public reads (eduplatform.cache); none when empty. The prefix keeps the
    # stacks sharing one Redis (local, e2e, load test) apart.
    cache_url: str | None = None
    cache_key_prefix: str = ""
    # HMAC key of list cursors (eduplatform.cursors): template parameter CursorSigningKey.
    cursor_signing_key: str | None = Field(default=None, min_length=32)

    # ---- sessions, account recovery, abuse limits ----
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # A refresh-token family (a login) ends this long after it started, however often it rotated.
    refresh_token_absolute_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    email_token_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    password_reset_ttl_seconds: int = Field(default=3600, gt=0)
    # SES sender (on AWS a verified identity) and the front end's pages the emails link to.
    email_sender: str = "no-reply@eduplatform.local"
    app_base_url: str = "http://localhost:5173"
    # Per-account lockout and per-IP limits, counted in Redis (LIMITS_URL, else CACHE_URL).
    limits_url: str | None = None
    login_failures_max: int = Field(default=5, gt=0)
    login_lockout_window_seconds: int = Field(default=15 * 60, gt=0)
    login_per_ip_per_minute: int = Field(default=20, gt=0)
    register_per_ip_per_minute: int = Field(default=5, gt=0)
    # POST /forgot-password answers no sooner than this after it started, known email or not.
    forgot_password_response_seconds: float = Field(default=0.3, ge=0, le=5)
    # CORS: "*" or a comma-separated list of origins.
    cors_allowed_origins: str = "*"
    # Tests only: seconds added to the wall clock (eduplatform.clock); the template never sets it.
    clock_offset_seconds: int = 0

    identity_db_url: str | None = None
    course_db_url: str | None = None
    enrollment_db_url: str | None = None
    payment_db_url: str | None = None
    notification_db_url: str | None = None
    admin_password: str | None = None

    # ---- on AWS, the SSM SecureStrings holding the secrets above (eduplatform.secrets) ----
    database_url_parameter: str | None = None
    listen_database_url_parameter: str | None = None
    identity_db_url_parameter: str | None = None
    course_db_url_parameter: str | None = None
    enrollment_db_url_parameter: str | None = None
    payment_db_url_parameter: str | None = None
    notification_db_url_parameter: str | None = None
    admin_password_parameter: str | None = None

    @model_validator(mode="after")
    def _jwt_secret_has_a_source(self) -> "Settings":
        if self.jwt_secret is None and self.jwt_secret_parameter is None:
            raise ValueError("set JWT_SECRET or JWT_SECRET_PARAMETER")
        return self

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] = os.environ) -> "Settings":
        """The settings the variables of ``environment`` give; an empty one is unset (the template
        passes every parameter, so an unused one arrives as an empty string)."""
        fields = cls.model_fields
        return cls.model_validate(
            {name.lower(): value for name, value in environment.items() if value and name.lower() in fields}
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
