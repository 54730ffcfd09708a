"""The cold-start measurement (infra/coldstart.py) knows a typical first request of every API function."""

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
