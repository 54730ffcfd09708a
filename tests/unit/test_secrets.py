"""Where the database URLs and the admin password come from: the value itself (emulators, tests) or,
on AWS, an SSM SecureString the functions read once per instance; never a plain value in the
functions' configuration on AWS."""

import boto3
import pytest
import yaml
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from infra.config import ROOT
from infra.template import generate

from eduplatform import db, secrets, settings


@pytest.fixture
def ssm(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    secrets._absent.clear()
    settings.get_settings.cache_clear()
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")
    parameters.clear_caches()
    secrets._absent.clear()
    settings.get_settings.cache_clear()
    db.reset_database()


def test_the_function_database_is_the_url_kept_in_ssm_when_database_url_is_empty(ssm, domain_database, monkeypatch):
    url = domain_database("notification")
    ssm.put_parameter(Name="/stack/notification/database-url", Value=url, Type="SecureString")
    monkeypatch.setenv("DATABASE_URL", "")  # as the template passes it on AWS
    monkeypatch.setenv("DATABASE_URL_PARAMETER", "/stack/notification/database-url")
    settings.get_settings.cache_clear()
    db.reset_database()

    with db.database().transaction() as conn:
        assert conn.execute("SELECT current_database() AS name").fetchone()["name"] == url.rsplit("/", 1)[1]


def test_a_secret_is_read_once_per_instance(ssm, monkeypatch):
    ssm.put_parameter(Name="/stack/admin-password", Value="first-password", Type="SecureString")
    monkeypatch.setenv("ADMIN_PASSWORD_PARAMETER", "/stack/admin-password")
    settings.get_settings.cache_clear()
    assert secrets.secret("admin_password") == "first-password"
    ssm.put_parameter(Name="/stack/admin-password", Value="second-password", Type="SecureString", Overwrite=True)
    assert secrets.secret("admin_password") == "first-password"


def test_the_value_wins_and_a_missing_source_is_a_clear_error(ssm, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "given-password")
    monkeypatch.setenv("ADMIN_PASSWORD_PARAMETER", "/stack/admin-password")
    settings.get_settings.cache_clear()
    assert secrets.secret("admin_password") == "given-password"

    monkeypatch.delenv("ADMIN_PASSWORD")
    monkeypatch.delenv("ADMIN_PASSWORD_PARAMETER")
    settings.get_settings.cache_clear()
    with pytest.raises(secrets.MissingSecret, match="set ADMIN_PASSWORD or ADMIN_PASSWORD_PARAMETER"):
        secrets.secret("admin_password")


def test_an_optional_secret_nobody_stored_is_none_and_asked_once(ssm, monkeypatch):
    monkeypatch.setenv("LISTEN_DATABASE_URL_PARAMETER", "/stack/course/listen-database-url")
    settings.get_settings.cache_clear()
    assert secrets.optional_secret("listen_database_url") is None
    ssm.put_parameter(Name="/stack/course/listen-database-url", Value="postgresql://x/y", Type="SecureString")
    assert secrets.optional_secret("listen_database_url") is None, "the instance noted it absent"
    secrets._absent.clear()
    assert secrets.optional_secret("listen_database_url") == "postgresql://x/y"


class _Loader(yaml.SafeLoader):
    pass


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_Loader.add_multi_constructor("!", _short_form)

SECRET_VARIABLES = {"DATABASE_URL", "LISTEN_DATABASE_URL", "ADMIN_PASSWORD"} | {
    f"{domain.upper()}_DB_URL" for domain in settings.DOMAINS
}


def test_every_function_given_a_secret_can_read_it_from_ssm_instead():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    functions = generate.serverless_functions(template)
    checked = 0
    for logical_id, properties in functions.items():
        variables = properties.get("Environment", {}).get("Variables", {})
        for name in SECRET_VARIABLES & set(variables):
            parameter = variables.get(f"{name}_PARAMETER")
            assert parameter, f"{logical_id}: {name} has no {name}_PARAMETER"
            assert next(iter(parameter.values())).startswith("${SecretsParameterPath}/"), logical_id
            checked += 1
        if SECRET_VARIABLES & set(variables) and "Role" not in properties:
            readable = [
                statement
                for policy in properties.get("Policies", [])
                for statement in policy.get("Statement", [])
                if statement.get("Action") == "ssm:GetParameter"
            ]
            assert any("SecretsParameterPath" in str(statement["Resource"]) for statement in readable), logical_id
    assert checked >= 10


def test_the_aws_config_passes_no_secret_values():
    samconfig = (ROOT / "samconfig.toml").read_text().split("[local.global.parameters]")[0]
    for parameter in ("DatabaseUrl", "AdminPassword", "JwtSecret="):
        assert parameter not in samconfig
