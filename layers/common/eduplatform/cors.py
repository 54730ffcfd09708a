"""CORS of the API: the origins allowed, the headers and methods, for the resolvers and the preflight.

Its own module, importing only Powertools' CORSConfig and the settings: the preflight function
answers every OPTIONS request with it and needs nothing else of ``eduplatform.http``.
"""

from aws_lambda_powertools.event_handler import CORSConfig

from eduplatform.settings import get_settings

ALLOWED_METHODS = "DELETE,GET,OPTIONS,PATCH,POST,PUT"


def cors_config() -> CORSConfig:
    """CORS for the origins of CORS_ALLOWED_ORIGINS (the web app's origin and the CorsAllowedOrigins
    parameter's): a comma-separated list, any origin where it holds "*" or nothing."""
    origins = [origin.strip() for origin in get_settings().cors_allowed_origins.split(",") if origin.strip()]
    if not origins or "*" in origins:
        origins = ["*"]
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After"],
        max_age=600,
    )


CORS = cors_config()
