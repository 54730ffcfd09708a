"""The cold-start measurement (infra/coldstart.py): a typical first request of every API function, and
instruction counts that follow what a cold process does."""

import shutil
from pathlib import Path

import pytest

from infra import coldstart
from infra.template.generate import read_template, serverless_functions


def test_every_api_function_has_a_typical_first_request_among_its_routes():
    functions = {
        logical_id: properties
        for logical_id, properties in serverless_functions(read_template()).items()
        if any(event["Type"] == "Api" for event in (properties.get("Events") or {}).values())
    }
    assert functions
    requests = {
        logical_id: coldstart.first_request_of(logical_id, properties) for logical_id, properties in functions.items()
    }
    assert requests["IdentityCredentialsFunction"].route == "POST /login"
    assert [logical_id for logical_id, request in requests.items() if request.password_check] == [
        "IdentityCredentialsFunction"
    ]


def test_each_run_logs_in_from_an_address_of_its_own():
    (login,) = (request for request in coldstart.FIRST_REQUESTS if request.route == "POST /login")
    event = coldstart.event_maker(login, None, {"AdminEmail": "admin@example.com", "AdminPassword": "p"})
    addresses = {event(run)["requestContext"]["identity"]["sourceIp"] for run in range(300)}
    assert len(addresses) == 300


def handler_setup(folder: Path, handlers: dict[str, str]) -> coldstart.Setup:
    """A worker as the emulator starts one, for handlers of the given code, without a stack."""
    script = folder / "_worker.py"
    script.write_text(coldstart.worker_script(folder))
    (folder / "layer").mkdir()
    targets = []
    for name, code in handlers.items():
        (folder / name).mkdir()
        (folder / name / "handler.py").write_text(code)
        targets.append(
            coldstart.Target(name, "GET /x", folder / name, "handler.handler", {}, lambda run: {"path": "/x"})
        )
    return coldstart.Setup(script, folder / "layer", targets, None, "nobody")


ANSWER = "def handler(event, context):\n    return {'statusCode': 200, 'body': ''}\n"


@pytest.mark.skipif(not shutil.which("valgrind"), reason="counting instructions needs valgrind")
def test_instructions_count_what_the_process_does_before_its_first_answer(tmp_path):
    setup = handler_setup(
        tmp_path,
        {
            "lean": ANSWER,
            "heavier": f"total = sum(i * i for i in range(1_000_000))\n{ANSWER}",
        },
    )
    lean, heavier = (coldstart.instructions(setup, target, 0) for target in setup.targets)
    assert lean > 10_000_000  # an interpreter's start at least
    assert heavier - lean > 50_000_000  # a million iterations of Python, at dozens of instructions each
