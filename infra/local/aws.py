"""The emulator as the launcher's AWS: SAM CLI's environment, botocore clients, a stack's resources and outputs."""

import os
import sys
from pathlib import Path

from infra.config import EMULATOR_URL


def emulator_environment() -> dict[str, str]:
    """Environment for SAM CLI and boto3 that points every AWS call at the emulator."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=EMULATOR_URL,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        SAM_CLI_TELEMETRY="0",
        # sam build needs the functions' runtime (python3.12) on PATH: this venv's.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def aws_client(service: str):
    # botocore's own session: boto3's import (its resource layer and s3transfer) is not needed
    # here and costs `make sync` ~0.05 s.
    import botocore.session

    env = emulator_environment()
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def function_name(stack: str, logical_id: str) -> str:
    resource = aws_client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return resource["StackResourceDetail"]["PhysicalResourceId"]


def stack_resources(name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource of a deployed stack."""
    resources = aws_client("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in resources}


def stack_outputs(name: str) -> dict[str, str] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = aws_client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError:
        return None
    if not stacks or not stacks[0]["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stacks[0]["StackStatus"]:
        return None
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
