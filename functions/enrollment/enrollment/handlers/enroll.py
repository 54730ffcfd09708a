from typing import Annotated

from aws_lambda_powertools.event_handler import Response

from eduplatform.auth import role_required
from eduplatform.events import outbox_relay
from eduplatform.facts import COURSE_FACTS, PAYMENT_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, created, lambda_handler
from eduplatform.principal import Principal, Role

from enrollment import service
from enrollment.schemas import EnrollmentOut, EnrollmentRequest

TEMPLATE_PROPERTIES = template_properties(COURSE_FACTS, PAYMENT_FACTS, outbox_relay("enrollment"))

app = create_app()

Student = Annotated[Principal, role_required(Role.STUDENT, message="Only students can enroll in courses")]


@app.post(
    "/enrollments",
    summary="Enroll in a course (a paid course needs a completed payment)",
    tags=["enrollment"],
    security=BEARER_AUTH,
    responses=api_responses(
        (402, "Paid course without a completed payment of the caller"),
        (403, "Only students can enroll in courses"),
        (404, "Unknown course"),
        (409, "Already enrolled"),
        success=201,
        model=EnrollmentOut,
        description="Enrolled",
    ),
)
def enroll(body: EnrollmentRequest, student: Student) -> Response[str]:
    return created(service.enroll(student.user_id, body.course_id, body.payment_id))


handler = lambda_handler(app)
