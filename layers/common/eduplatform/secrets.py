"""Secrets of a function instance: given in its environment (emulators, tests), or, on AWS, read
from an SSM Parameter Store SecureString the environment names, once per instance.

Every secret setting ``foo`` of ``eduplatform.settings.Settings`` has a companion ``foo_parameter``
(environment ``FOO_PARAMETER``). The value itself wins when set; otherwise the parameter is read
at the first use and kept by the instance, so no secret sits in a function's configuration, where
anyone allowed ``lambda:GetFunctionConfiguration`` could read it.
"""

from eduplatform.settings import get_settings

# A database URL or the admin password changes with a deploy, not while an instance runs: an
# instance reads it once (Powertools keeps it this long; a new instance reads it anew).
SECRET_MAX_AGE_SECONDS = 24 * 3600


class MissingSecret(RuntimeError):
    """Neither the secret nor the parameter that holds it is configured."""


def secret(name: str, max_age: int = SECRET_MAX_AGE_SECONDS, force: bool = False) -> str:
    """The value of the secret setting ``name`` (e.g. ``"database_url"``); a parameter's value is
    kept ``max_age`` seconds, and ``force`` reads it again now."""
    settings = get_settings()
    value = getattr(settings, name)
    if value:
        return str(value)
    parameter = getattr(settings, f"{name}_parameter")
    if not parameter:
        raise MissingSecret(f"set {name.upper()} or {name.upper()}_PARAMETER")
    # Imported here: it pulls in boto3, which a function given its secrets never needs.
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_parameter(parameter, decrypt=True, max_age=max_age, force_fetch=force))


_absent: set[str] = set()


def optional_secret(name: str) -> str | None:
    """Like ``secret``, but None when it is not configured, or its parameter does not exist (noted
    once per instance, so an optional secret nobody stored costs one SSM call per instance)."""
    settings = get_settings()
    if getattr(settings, name):
        return str(getattr(settings, name))
    parameter = getattr(settings, f"{name}_parameter")
    if not parameter or parameter in _absent:
        return None
    from aws_lambda_powertools.utilities import parameters

    try:
        return secret(name)
    except parameters.exceptions.GetParameterError:
        _absent.add(parameter)
        return None
