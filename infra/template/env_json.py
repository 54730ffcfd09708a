"""Generate env.json, the --env-vars file of `sam local start-api --config-env compose`.

SAM local runs each function in a container and takes its environment variables from
env.json: the "Parameters" entry applies to every function, an entry named after a
function's logical id to that function. This file is the template's variables resolved
with samconfig's ``compose`` parameters: the compose databases by service name, which the
functions reach because samconfig puts them on the compose network (docker_network).

    python -m infra.template.env_json           # rewrite env.json (make template does)
    python -m infra.template.env_json --check   # exit 1 when env.json is stale
"""

import json
import sys

import yaml

from infra import generated_files
from infra.config import ROOT, deploy_parameters
from infra.template.generate import TEMPLATE

ENV_JSON = ROOT / "env.json"
CONFIG_ENV = "compose"


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref X, !Sub ...) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=_TemplateLoader)


def resolved_variables(variables: dict, values: dict[str, str]) -> dict[str, str]:
    """The variables whose value is a literal or a Ref to a parameter; others are left to SAM."""
    resolved = {}
    for name, value in variables.items():
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in values:
            resolved[name] = values[value["Ref"]]
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            resolved[name] = str(value)
    return resolved


def render() -> str:
    template = load_template()
    values = {name: str(spec["Default"]) for name, spec in template["Parameters"].items() if "Default" in spec}
    values.update(deploy_parameters(CONFIG_ENV))
    env = {"Parameters": resolved_variables(template["Globals"]["Function"]["Environment"]["Variables"], values)}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            env[logical_id] = resolved_variables(variables, values)
    return json.dumps(env, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated_files.run(
        argv, "Generate env.json for sam local start-api from template.yaml", [ENV_JSON], render, "template"
    )


if __name__ == "__main__":
    sys.exit(main())
