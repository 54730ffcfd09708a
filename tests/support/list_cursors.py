"""Checks shared by the tests of the caller's lists filtered by course (GET /enrollments/me, GET /payments/me)."""

from tests.support.lambda_events import call


def assert_course_cursor_bound_to_its_filter(
    module: str, token: str, other_token: str, course_id: str, other_course_id: str, in_course: str, unfiltered: str
) -> None:
    """``in_course``, a cursor of the caller's list of ``course_id``, and ``unfiltered``, one of the caller's
    whole list, are refused (422 on the cursor) on another course's list, on each other's lists, and
    for another caller."""
    refused = {
        "another course's": {"course_id": other_course_id, "cursor": in_course},
        "the unfiltered list's": {"course_id": course_id, "cursor": unfiltered},
        "a course's, on the unfiltered list": {"cursor": in_course},
    }
    for name, query in refused.items():
        response = call(module, token=token, query={"limit": 2, **query})
        assert response.status == 422, (name, response.text)
        (error,) = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"] and "another list or query" in error["msg"], (name, error)
    another_caller = call(module, token=other_token, query={"course_id": course_id, "cursor": in_course})
    assert another_caller.status == 422
