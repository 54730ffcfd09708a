"""Everything calls the functions of the deployed stack through their alias, as on AWS with SnapStart.

SnapStart serves published versions only, so the template gives every function the alias ``live``
(SAM's AutoPublishAlias) and points API Gateway's integrations, the queues' event source mappings,
the schedules and the internal invokes at it. On the emulator the launcher then points each alias
at $LATEST (``make sync`` and the warm-up act on $LATEST), and SnapStart is off there.
"""

import pytest

from infra.config import ROOT
from infra.local import aws
from infra.template.generate import read_template, serverless_functions
from tests.e2e.conftest import E2E_STACK

pytestmark = pytest.mark.e2e

ALIAS = "live"


@pytest.fixture(scope="module")
def functions(api) -> dict[str, str]:
    """Logical id -> function name of every function of the e2e stack."""
    resources = aws.stack_resources(E2E_STACK)
    return {
        logical_id: resources[logical_id] for logical_id in serverless_functions(read_template(ROOT / "template.yaml"))
    }


def alias_arn(function_name: str) -> str:
    return aws.aws_client("lambda").get_alias(FunctionName=function_name, Name=ALIAS)["AliasArn"]


def test_every_function_has_its_alias_on_latest_and_a_published_version_without_snapstart(functions):
    lambda_client = aws.aws_client("lambda")
    template_globals = read_template(ROOT / "template.yaml")["Globals"]["Function"]
    assert template_globals["AutoPublishAlias"] == ALIAS
    for logical_id, name in functions.items():
        assert lambda_client.get_alias(FunctionName=name, Name=ALIAS)["FunctionVersion"] == "$LATEST", logical_id
        published = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
        assert any(version["Version"] != "$LATEST" for version in published), logical_id
        assert all(version["SnapStart"]["ApplyOn"] == "None" for version in published), logical_id


def test_api_gateway_invokes_each_routes_function_through_its_alias_which_allows_it(functions, api):
    apigateway = aws.aws_client("apigateway")
    lambda_client = aws.aws_client("lambda")
    api_id = aws.stack_outputs(E2E_STACK)["ApiId"]
    integrated: set[str] = set()
    for resource in apigateway.get_resources(restApiId=api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods") or {}:
            uri = apigateway.get_integration(restApiId=api_id, resourceId=resource["id"], httpMethod=method)["uri"]
            function_arn = uri.split("/functions/", 1)[1].removesuffix("/invocations")
            assert function_arn.endswith(f":{ALIAS}"), (resource["path"], method, uri)
            integrated.add(function_arn.rsplit(":", 2)[-2])
    assert integrated and integrated <= set(functions.values())
    for name in integrated:
        policy = lambda_client.get_policy(FunctionName=name, Qualifier=ALIAS)["Policy"]
        assert "apigateway.amazonaws.com" in policy and f":{ALIAS}" in policy, name


def test_the_queues_and_the_schedules_deliver_to_the_alias(functions):
    lambda_client = aws.aws_client("lambda")
    events = aws.aws_client("events")
    template = serverless_functions(read_template(ROOT / "template.yaml"))
    consumers = schedules = 0
    for logical_id, properties in template.items():
        kinds = {event["Type"] for event in (properties.get("Events") or {}).values()}
        name = functions[logical_id]
        if "SQS" in kinds:
            mappings = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
            assert mappings and all(m["FunctionArn"] == alias_arn(name) for m in mappings), logical_id
            consumers += 1
        if "Schedule" in kinds:
            assert events.list_rule_names_by_target(TargetArn=alias_arn(name))["RuleNames"], logical_id
            schedules += 1
    assert consumers and schedules


def test_internal_invokes_name_the_alias_of_the_function_they_call(functions):
    lambda_client = aws.aws_client("lambda")
    aliases = {alias_arn(name) for name in functions.values()}
    named = 0
    for logical_id, name in functions.items():
        variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        for variable, value in variables.items():
            if variable.endswith("_FUNCTION"):
                assert value in aliases, (logical_id, variable, value)
                named += 1
    assert named
