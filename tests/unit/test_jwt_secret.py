"""Where the JWT secret comes from: JWT_SECRET (emulators, tests) or an SSM SecureString (AWS)."""

import uuid

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pydantic import ValidationError

from eduplatform import security, settings

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
    token = security.issue_token(user_id, security.Role.TEACHER, is_verified=True)

    assert security.jwt_secret() == SSM_SECRET
    principal = security.decode_token(token)
    assert principal.user_id == user_id and principal.role is security.Role.TEACHER


def test_the_ssm_secret_is_cached_between_invocations(secret_in_ssm):
    security.jwt_secret()
    secret_in_ssm.put_parameter(
        Name=PARAMETER, Value="rotated-secret-0123456789abcdefghijkl", Type="SecureString", Overwrite=True
    )

    assert security.jwt_secret() == SSM_SECRET  # re-read after JWT_SECRET_MAX_AGE_SECONDS


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


def test_a_secret_source_is_required(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.delenv("JWT_SECRET_PARAMETER", raising=False)

    with pytest.raises(ValidationError, match="JWT_SECRET_PARAMETER"):
        settings.Settings()
