from eduplatform.facts import COURSE_FACTS, PAYMENT_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, create_app, created, lambda_handler, role_required
from eduplatform.security import Role

from enrollment import service
from enrollment.schemas import EnrollmentRequest

TEMPLATE_PROPERTIES = template_properties(COURSE_FACTS, PAYMENT_FACTS, publishes_events=True)

app = create_app()

Student = role_required(Role.STUDENT, message="Only students can enroll in courses")


@app.post("/enrollments", summary="Enroll in a course (a paid course needs a completed payment)",
          tags=["enrollment"], security=BEARER_AUTH,
          responses={201: {"description": "Enrolled"}, 402: {"description": "Payment required"},
                     404: {"description": "Unknown course"}, 409: {"description": "Already enrolled"}})
def enroll(body: EnrollmentRequest, student: Student):
    return created(service.enroll(student.user_id, body.course_id, body.payment_id))


handler = lambda_handler(app)
