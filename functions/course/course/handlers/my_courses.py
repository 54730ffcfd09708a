from eduplatform.http import BEARER_AUTH, Limit, Offset, Page, api_responses, create_app, lambda_handler

from course import service
from course.access import Teacher
from course.schemas import CourseOut

app = create_app()


@app.get("/courses/my", summary="The calling teacher's courses, newest first", tags=["course"], security=BEARER_AUTH,
         responses=api_responses((403, "Only teachers have courses of their own")))
def my_courses(teacher: Teacher, limit: Limit = 20, offset: Offset = 0) -> Page[CourseOut]:
    items, total = service.teacher_courses(teacher.user_id, limit, offset)
    return Page[CourseOut](items=items, total=total)


handler = lambda_handler(app)
