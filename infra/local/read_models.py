"""Rebuild the read models of the running local stack from the owning domains (`make rebuild-read-models`).

Enrollment keeps course facts with their lessons and completed payments; payment keeps course
facts (eduplatform.read_models). Their events keep them current, and `make seed` writes them with
the rest of its data; this is the repair: it fills them from the owning domains (after a read
model's database was restored, or lost events): each domain's rebuild function is invoked page
after page until the owning domain's export is exhausted. Versions the read model already holds
that are newer than the export's are kept.

    .venv/bin/python -m infra.local.read_models [--stack NAME]
"""

import argparse
import json
import sys
import time

from infra.config import stack_name
from infra.local.aws import aws_client, function_name

REBUILDS = (
    ("EnrollmentInternalRebuildReadModelsFunction", ("courses", "payments")),
    ("PaymentInternalRebuildReadModelsFunction", ("courses",)),
)


def rebuild_model(client, name: str, model: str) -> tuple[int, int]:
    """Invoke the rebuild function until the export ends: (rows received, rows changed)."""
    received = applied = 0
    after = None
    while True:
        response = client.invoke(FunctionName=name, Payload=json.dumps({"model": model, "after": after}).encode())
        answer = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError") or not isinstance(answer, dict) or "error" in answer:
            raise SystemExit(f"rebuilding {model} with {name} failed: {answer}")
        received += answer["received"]
        applied += answer["applied"]
        after = answer.get("next")
        if after is None:
            return received, applied


def rebuild(stack: str) -> None:
    client = aws_client("lambda")
    for logical_id, models in REBUILDS:
        name = function_name(stack, logical_id)
        for model in models:
            started = time.monotonic()
            received, applied = rebuild_model(client, name, model)
            print(
                f"[read models] {logical_id} {model}: {received:,} received, {applied:,} changed "
                f"in {time.monotonic() - started:.1f}s",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=stack_name("local"))
    rebuild(parser.parse_args(argv).stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
