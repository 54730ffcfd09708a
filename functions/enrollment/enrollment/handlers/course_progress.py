from uuid import UUID

from eduplatform.auth import CurrentUser
from eduplatform.facts import COURSE_FACTS, template_properties
from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from enrollment import service
from enrollment.schemas import CourseProgress

TEMPLATE_PROPERTIES = template_properties(COURSE_FACTS)

app = create_app()


@app.get(
    "/progress/courses/<course_id>",
    summary="The caller's progress in a course",
    tags=["enrollment"],
    security=BEARER_AUTH,
    responses=api_responses((404, "Unknown course")),
)
def course_progress(course_id: UUID, user: CurrentUser) -> CourseProgress:
    return service.course_progress(user.user_id, course_id)


handler = lambda_handler(app)
