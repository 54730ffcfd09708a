"""Where the JWT secret comes from: JWT_SECRET (emulators, tests) or an SSM SecureString (AWS)."""

import uuid

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pydantic import ValidationError

from eduplatform import security, settings
from eduplatform.principal import Role

PARAMETER = "/eduplatform-test/jwt-secret"
SSM_SECRET = "secret-kept-in-parameter-store-0123456789"


@pytest.fixture
def secret_in_ssm(monkeypatch):
    """JWT_SECRET empty (as the template passes it on AWS) and the secret in a moto SSM SecureString."""
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("JWT_SECRET_PARAMETER", PARAMETER)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.get_settings.cache_clear()
    parameters.clear_caches()
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=PARAMETER, Value=SSM_SECRET, Type="SecureString")
        yield ssm
    parameters.clear_caches()
    settings.get_settings.cache_clear()


def test_tokens_are_signed_with_the_ssm_secret_when_jwt_secret_is_empty(secret_in_ssm):
    user_id = uuid.uuid4()
    token = security.issue_token(user_id, Role.TEACHER, is_verified=True)

    assert security.jwt_secret() == SSM_SECRET
    principal = security.decode_token(token)
    assert principal.user_id == user_id and principal.role is Role.TEACHER


def test_the_ssm_secret_is_cached_between_invocations(secret_in_ssm):
    security.jwt_secret()
    secret_in_ssm.put_parameter(
        Name=PARAMETER, Value="rotated-secret-0123456789abcdefghijkl", Type="SecureString", Overwrite=True
    )

    assert security.jwt_secret() == SSM_SECRET  # re-read after JWT_SECRET_MAX_AGE_SECONDS


@pytest.mark.parametrize(("later", "seen"), [(59, SSM_SECRET), (61, "rotated-secret-0123456789abcdefghijkl")])
def test_the_ssm_secret_is_read_again_once_jwt_secret_max_age_seconds_have_passed(
    secret_in_ssm, monkeypatch, later, seen
):
    from datetime import datetime, timedelta

    from aws_lambda_powertools.utilities.parameters import base

    monkeypatch.setenv("JWT_SECRET_MAX_AGE_SECONDS", "60")
    settings.get_settings.cache_clear()
    security.jwt_secret()
    secret_in_ssm.put_parameter(
        Name=PARAMETER, Value="rotated-secret-0123456789abcdefghijkl", Type="SecureString", Overwrite=True
    )

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=later)

    monkeypatch.setattr(base, "datetime", Later)
    assert security.jwt_secret() == seen


def test_a_short_ssm_secret_is_refused(secret_in_ssm):
    secret_in_ssm.put_parameter(Name=PARAMETER, Value="too-short", Type="SecureString", Overwrite=True)

    with pytest.raises(ValueError, match="fewer than 32"):
        security.jwt_secret()


def test_jwt_secret_wins_over_the_parameter(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "environment-secret-0123456789abcdefgh")
    monkeypatch.setenv("JWT_SECRET_PARAMETER", PARAMETER)
    settings.get_settings.cache_clear()
    try:
        assert security.jwt_secret() == "environment-secret-0123456789abcdefgh"
    finally:
        settings.get_settings.cache_clear()


def test_settings_are_the_variables_of_their_names_in_any_case_an_empty_one_unset():
    configured = settings.Settings.from_environment(
        {"JWT_SECRET": "a-secret-of-thirty-two-characters", "jwt_ttl_seconds": "60", "CACHE_URL": "", "OTHER": "x"}
    )
    assert (configured.jwt_secret, configured.jwt_ttl_seconds) == ("a-secret-of-thirty-two-characters", 60)
    assert configured.cache_url is None and not hasattr(configured, "other")
    with pytest.raises(ValidationError, match="jwt_ttl_seconds"):
        settings.Settings.from_environment({"JWT_SECRET": "a-secret-of-thirty-two-characters", "JWT_TTL_SECONDS": "0"})


def test_a_secret_source_is_required(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.delenv("JWT_SECRET_PARAMETER", raising=False)

    with pytest.raises(ValidationError, match="JWT_SECRET_PARAMETER"):
        settings.Settings.from_environment()


# ---- issuer, audience, key ids and rotation -----------------------------------------------------

PREVIOUS_PARAMETER = "/eduplatform-test/jwt-secret-previous"
NEW_SECRET = "the-new-secret-after-rotation-0123456789"


def test_tokens_carry_issuer_audience_and_kid_and_a_foreign_issuer_is_refused(monkeypatch):
    import jwt

    token = security.issue_token(uuid.uuid4(), Role.STUDENT, is_verified=True)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "eduplatform" and claims["aud"] == "eduplatform-api"
    assert jwt.get_unverified_header(token)["kid"] == security.current_keys().kid

    monkeypatch.setenv("TOKEN_ISSUER", "another-stack")
    settings.get_settings.cache_clear()
    try:
        foreign = security.issue_token(uuid.uuid4(), Role.ADMIN, is_verified=True)
    finally:
        monkeypatch.delenv("TOKEN_ISSUER")
        settings.get_settings.cache_clear()
    # Same secret, another stack's issuer: refused here.
    with pytest.raises(security.InvalidToken):
        security.decode_token(foreign)
    other_audience = jwt.encode(
        {**claims, "aud": "another-api"}, security.current_keys().access, headers={"kid": security.current_keys().kid}
    )
    with pytest.raises(security.InvalidToken):
        security.decode_token(other_audience)


def test_a_token_signed_with_the_raw_secret_or_without_a_kid_is_refused():
    import jwt

    good = security.issue_token(uuid.uuid4(), Role.STUDENT, is_verified=True)
    claims = jwt.decode(good, options={"verify_signature": False})
    raw = jwt.encode(claims, security.jwt_secret(), headers={"kid": security.current_keys().kid})
    no_kid = jwt.encode(claims, security.current_keys().access)
    for token in (raw, no_kid):
        with pytest.raises(security.InvalidToken):
            security.decode_token(token)


def test_email_links_use_a_key_of_their_own():
    keys = security.current_keys()
    assert keys.email_link != keys.access
    assert security.jwt_secret().encode() not in (keys.email_link, keys.access)


def test_rotation_in_ssm_nobody_is_logged_out_and_new_tokens_use_the_new_kid(secret_in_ssm, monkeypatch):
    monkeypatch.setenv("JWT_PREVIOUS_SECRET_PARAMETER", PREVIOUS_PARAMETER)
    settings.get_settings.cache_clear()
    secret_in_ssm.put_parameter(Name=PREVIOUS_PARAMETER, Value=SSM_SECRET, Type="SecureString")
    user_id = uuid.uuid4()
    old_token = security.issue_token(user_id, Role.STUDENT, is_verified=True)
    old_kid = security.current_keys().kid

    # The rotation: the current value goes to the previous parameter, the new secret to the current one.
    secret_in_ssm.put_parameter(Name=PREVIOUS_PARAMETER, Value=SSM_SECRET, Type="SecureString", Overwrite=True)
    secret_in_ssm.put_parameter(Name=PARAMETER, Value=NEW_SECRET, Type="SecureString", Overwrite=True)
    parameters.clear_caches()  # this instance's cache has aged out (JWT_SECRET_MAX_AGE_SECONDS)

    new_token = security.issue_token(user_id, Role.STUDENT, is_verified=True)
    import jwt

    assert jwt.get_unverified_header(new_token)["kid"] == security.current_keys().kid != old_kid
    assert security.decode_token(old_token).user_id == user_id  # signed with the previous key
    assert security.decode_token(new_token).user_id == user_id


def test_an_instance_that_has_not_seen_the_rotation_reads_the_secrets_again_for_an_unknown_kid(
    secret_in_ssm, monkeypatch
):
    monkeypatch.setenv("JWT_PREVIOUS_SECRET_PARAMETER", PREVIOUS_PARAMETER)
    settings.get_settings.cache_clear()
    secret_in_ssm.put_parameter(Name=PREVIOUS_PARAMETER, Value=SSM_SECRET, Type="SecureString")
    security.jwt_secret()  # cached: the old secret
    monkeypatch.setattr(security, "_last_forced_fetch", 0.0)
    # Another instance already signs with the new secret.
    new_token = __import__("jwt").encode(
        {
            "iss": "eduplatform",
            "aud": "eduplatform-api",
            "sub": str(uuid.uuid4()),
            "iat": int(security.clock.now()),
            "exp": int(security.clock.now()) + 60,
            "role": "student",
        },
        security._keys_of(NEW_SECRET).access,
        headers={"kid": security._keys_of(NEW_SECRET).kid},
    )
    secret_in_ssm.put_parameter(Name=PARAMETER, Value=NEW_SECRET, Type="SecureString", Overwrite=True)

    assert security.decode_token(new_token).role is Role.STUDENT
    assert security.jwt_secret() == NEW_SECRET


def test_a_previous_secret_in_the_environment_is_accepted_but_never_signs(monkeypatch):
    old = security.issue_token(uuid.uuid4(), Role.TEACHER, is_verified=True)
    previous = security.jwt_secret()
    monkeypatch.setenv("JWT_SECRET", NEW_SECRET)
    monkeypatch.setenv("JWT_PREVIOUS_SECRET", previous)
    settings.get_settings.cache_clear()
    try:
        assert security.decode_token(old).role is Role.TEACHER
        assert security.current_keys().kid == security._keys_of(NEW_SECRET).kid
        monkeypatch.delenv("JWT_PREVIOUS_SECRET")
        settings.get_settings.cache_clear()
        monkeypatch.setattr(security, "_last_forced_fetch", 0.0)
        with pytest.raises(security.InvalidToken):
            security.decode_token(old)
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()
