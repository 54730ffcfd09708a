"""Course rules: catalogue and search, teachers' courses and curricula, lesson access, students' reviews.

What paying buys: a free course's lessons open to everyone; a paid course's to its enrolled
students, its teacher and admins; a lesson its teacher marks ``is_preview`` to everyone. Who
is enrolled comes from the course domain's own table, course_enrollments, filled from
EnrollmentCreated events (course.enrollment_consumer): deciding asks no other domain. The
cache holds whole lessons and curricula (content included) under names only this module
reads, and every answer is cut to what its caller may open after the entry is read: no
cache path answers gated content without the check.

A course answer names its teacher (teacher_name) from the domain's own teachers table, filled
from identity's UserRegistered events (course.teacher_consumer): no call to identity either.

The public reads (a course, its curriculum, a lesson, catalogue and search pages with their
totals) go through the Redis cache (eduplatform.cache); every write bumps, after its commit,
the versions of what it changed: ``course:<id>`` (the course and its curriculum),
``lesson:<id>`` and the catalogue's (``catalogue_versions``: every page, the unfiltered
listing, a category's listing, a searched term's pages, the popular-sorted pages).

A change to what other domains keep of a course (price, is_free, its lessons) counts one
more ``facts_version`` and records, in the same transaction, a versioned event carrying the
course's whole facts at that version (CourseCreated, CourseUpdated, LessonCreated,
LessonDeleted), published after commit through the outbox (eduplatform.events); enrollment
and payment keep their read models from them (eduplatform.read_models).
"""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, NotFoundError, UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from eduplatform import audit, cursors, events
from eduplatform.cache import cache, key_of
from eduplatform.db import Connection, database
from eduplatform.http import (
    Conflict,
    CursorPage,
    check_cursor_or_offset,
    invalid_cursor,
    invalid_query,
    keyset_list,
)
from eduplatform.principal import Principal, Role
from eduplatform.types import ApiModel

from course import repository
from course.schemas import (
    CatalogueQuery,
    CategoryList,
    CategoryOut,
    CourseCreate,
    CourseOut,
    CourseUpdate,
    Curriculum,
    LessonCreate,
    LessonOut,
    LessonUpdate,
    ModuleCreate,
    ModuleOut,
    ModuleUpdate,
    ModuleWithLessons,
    ReviewCreate,
    ReviewOut,
    StoredLesson,
    price_rule_violation,
)

# Short: an invalidation lost while Redis was unreachable is outlived by at most this. (Writes
# invalidate what they change, so the TTL only bounds that case; catalogue and search pages
# keep 5 minutes too: an uncached search total of a common term costs ~100 ms of PostgreSQL.)
COURSE_TTL_SECONDS = 300
CATALOGUE_TTL_SECONDS = 300
# Every catalogue page (a review changes a course's rating wherever it is listed).
CATALOGUE = "catalogue"
# The pages listed without a search term (a new or changed course shifts or changes them).
CATALOGUE_LISTING = "catalogue:listing"
# The pages of one category listed without a search term (a course written in it changes them).
CATALOGUE_CATEGORY = "catalogue:category:{}"
# The pages sorted by popularity (an enrollment counted changes their order, nothing else shown).
CATALOGUE_POPULAR = "catalogue:popular"
# The categories (no endpoint writes them; the seed does, and their entry expires).
CATEGORIES = "categories"
CATEGORIES_TTL_SECONDS = 300
# The search terms read recently, each with its own version: a course written changes only the
# pages of the terms it matches (before or after the write), not every search.
SEARCHED_TERMS = "searched-terms"
# A term's pages outlive its last registration by at most their TTL plus one load (a function's timeout).
SEARCHED_TERMS_WINDOW_SECONDS = CATALOGUE_TTL_SECONDS + 30


class CataloguePage(ApiModel):
    """A catalogue page: ``total`` is None when not asked (cursor pages), ``next_cursor`` None on the last page."""

    items: list[CourseOut]
    total: int | None = None
    next_cursor: str | None = None


def _course_version(course_id: UUID) -> str:
    return f"course:{course_id}"


def _lesson_version(lesson_id: UUID) -> str:
    return f"lesson:{lesson_id}"


def _term_version(term: str) -> str:
    return f"catalogue:term:{key_of(term)}"


def _category_version(category_id: UUID) -> str:
    return CATALOGUE_CATEGORY.format(category_id)


def _invalidate_catalogue(search_texts: list[str], categories: set[UUID | None]) -> None:
    """After a course write: the pages listed without a search term, unfiltered or in the course's
    category (before or after the change), and the pages of the searched terms the course matched
    or matches. Other categories' pages and other searches stay cached."""
    category_versions = [_category_version(category_id) for category_id in categories if category_id is not None]
    terms = cache().registered(SEARCHED_TERMS, SEARCHED_TERMS_WINDOW_SECONDS)
    if terms is None:  # Redis cannot say which terms were read: every page goes
        cache().invalidate(CATALOGUE)
        return
    matching = []
    if terms:
        with database().transaction() as conn:
            matching = repository.terms_matching(conn, terms, search_texts)
    cache().invalidate(CATALOGUE_LISTING, *category_versions, *(_term_version(term) for term in matching))


EVENT_SOURCE = events.domain_source("course")

COURSE_NOT_FOUND = "Course not found"
MODULE_NOT_FOUND = "Module not found"
LESSON_NOT_FOUND = "Lesson not found"
NOT_THE_OWNER = "Not the owner of this course"
ALREADY_REVIEWED = "You have already reviewed this course"
ENROLL_TO_OPEN = "Enroll in this course to open its lessons"
ENROLL_TO_REVIEW = "Enroll in this course to review it"


def _ensure_owner(teacher: Principal, teacher_id: UUID) -> None:
    if teacher.user_id != teacher_id:
        raise ForbiddenError(NOT_THE_OWNER)


def _record_facts_change(
    conn: Connection, course_id: UUID, detail_type: str, *, new_version: bool = True, **details: str
) -> events.RecordedEvent:
    """Count a change of the course's facts and record its event (the outbox relay publishes it)."""
    if new_version:
        repository.next_facts_version(conn, course_id)
    row = repository.course_facts(conn, course_id)
    if row is None:  # the caller holds the course's row
        raise LookupError(f"course {course_id} not found")
    facts_detail = {"version": row["version"], "course": _facts_answer(row)}
    return events.record(conn, EVENT_SOURCE, detail_type, {**facts_detail, **details})


# ---- courses ---------------------------------------------------------------------------------------------


def catalogue_versions(query: CatalogueQuery) -> tuple[list[str], tuple[str, str] | None]:
    """The cache versions a catalogue page depends on, and the registry entry its term needs.

    Every page: CATALOGUE (a review changes ratings anywhere). A searched page: its term's
    version (bumped by writes of courses matching the term). Otherwise a category's pages:
    that category's version; the rest: CATALOGUE_LISTING. Sorted by popularity: also
    CATALOGUE_POPULAR (bumped by every enrollment counted).
    """
    term = query.term
    registry = None
    if term is not None:
        versions, registry = [CATALOGUE, _term_version(term)], (SEARCHED_TERMS, term)
    elif query.category_id is not None:
        versions = [CATALOGUE, _category_version(query.category_id)]
    else:
        versions = [CATALOGUE, CATALOGUE_LISTING]
    if query.sort == "popular":
        versions.append(CATALOGUE_POPULAR)
    return versions, registry


CATALOGUE_ENDPOINT = "GET /courses"


def catalogue(
    query: CatalogueQuery, limit: int, offset: int = 0, cursor: str | None = None, with_total: bool = False
) -> CataloguePage:
    """A catalogue page by offset (with its total) or after a cursor (the total only ``with_total``).

    Every page but the last carries ``next_cursor``: a signed cursor after its last item, bound
    to this query (search, filters and sort), so any page can continue by cursor.
    """
    if query.price_min is not None and query.price_max is not None and query.price_min > query.price_max:
        raise invalid_query("price_max", "price_max must not be below price_min")
    check_cursor_or_offset(cursor, offset)
    query = query.model_copy(update={"q": query.term})  # one cache entry for "x", " x" and "x "
    order = repository.SORTS[query.sort]
    bound_to = cursors.fingerprint(CATALOGUE_ENDPOINT, query.model_dump(mode="json"))
    try:
        after = order.after_cursor(cursor, bound_to)
    except cursors.InvalidCursor:
        raise invalid_cursor() from None
    want_total = cursor is None or with_total

    def load() -> CataloguePage:
        rows, total = repository.catalogue(database(), query, limit + 1, offset, after, with_total=want_total)
        rows, next_cursor = order.page(rows, limit, bound_to)
        return CataloguePage(items=[CourseOut(**row) for row in rows], total=total, next_cursor=next_cursor)

    versions, registry = catalogue_versions(query)
    key = key_of(query.model_dump(mode="json"), limit, offset, cursor, want_total)
    return cache().read_through(
        "catalogue", key, versions, CataloguePage, load, CATALOGUE_TTL_SECONDS, registry=registry
    )


def categories() -> CategoryList:
    def load() -> CategoryList:
        with database().transaction() as conn:
            rows = repository.categories(conn)
        return CategoryList(items=[CategoryOut(**row) for row in rows])

    return cache().read_through("categories", "all", [CATEGORIES], CategoryList, load, CATEGORIES_TTL_SECONDS)


UNKNOWN_CATEGORY = "Unknown category: no category has this id (GET /categories lists them)"


def _require_category(conn: Connection, category_id: UUID | None) -> None:
    if category_id is not None and not repository.category_exists(conn, category_id):
        raise RequestValidationError([{"loc": ("body", "category_id"), "msg": UNKNOWN_CATEGORY, "type": "value_error"}])


def count_enrollment(event_id: UUID, course_id: UUID, student_id: UUID) -> bool:
    """Apply an EnrollmentCreated event once: the course's popularity, and the student's access to
    its lessons (course_enrollments); whether it was applied now."""
    with database().transaction() as conn:
        counted = repository.count_enrollment(conn, event_id, course_id, student_id)
    if counted:
        cache().invalidate(CATALOGUE_POPULAR)
    return counted


def record_teacher(teacher_id: UUID, name: str) -> bool:
    """Apply a teacher's UserRegistered event once: every answer about the teacher's courses names
    them from now on; whether the name was new. A teacher registers before creating any course, so
    there is usually nothing cached to invalidate; otherwise the courses' entries and every
    catalogue page (any may list one of them) go."""
    with database().transaction() as conn:
        course_ids = repository.record_teacher(conn, teacher_id, name)
    if course_ids:
        cache().invalidate(CATALOGUE, *(_course_version(course_id) for course_id in course_ids))
    return course_ids is not None


def teacher_courses(
    teacher_id: UUID, limit: int, offset: int = 0, cursor: str | None = None, with_total: bool = False
) -> CursorPage[CourseOut]:
    """The teacher's courses, newest first, by offset or cursor (bound to this teacher's list)."""
    return keyset_list(
        CourseOut,
        "GET /courses/my",
        repository.TEACHER_COURSES,
        {"teacher_id": teacher_id},
        limit,
        offset,
        cursor,
        with_total,
    )


def course(course_id: UUID) -> CourseOut:
    def load() -> CourseOut:
        rows = database().statement(repository.COURSE_BY_ID, (course_id,))
        if not rows:
            raise NotFoundError(COURSE_NOT_FOUND)
        return CourseOut(**rows[0])

    return cache().read_through(
        "course", str(course_id), [_course_version(course_id)], CourseOut, load, COURSE_TTL_SECONDS
    )


def create_course(teacher: Principal, request: CourseCreate) -> CourseOut:
    with database().transaction() as conn:
        _require_category(conn, request.category_id)
        row = repository.insert_course(
            conn,
            teacher.user_id,
            request.title,
            request.description,
            request.is_free,
            request.price,
            request.duration_minutes,
            request.level,
            request.category_id,
        )
        _record_facts_change(conn, row["id"], events.COURSE_CREATED, new_version=False)
        search_text = repository.search_text_of(conn, row["id"])
    _invalidate_catalogue([search_text], {row["category_id"]})
    return CourseOut(**row)


def update_course(teacher: Principal, course_id: UUID, request: CourseUpdate) -> CourseOut:
    with database().transaction() as conn:
        stored = repository.course_by_id(conn, course_id, for_update=True)
        if stored is None:
            raise NotFoundError(COURSE_NOT_FOUND)
        _ensure_owner(teacher, stored["teacher_id"])
        search_text_before = repository.search_text_of(conn, course_id)
        merged = {**stored, **request.model_dump(exclude_unset=True)}
        if request.is_free is True and "price" not in request.model_fields_set:
            merged["price"] = None  # making a course free drops its price
        problem = price_rule_violation(merged["is_free"], merged["price"])
        if problem:
            raise RequestValidationError([{"loc": ("body", "price"), "msg": problem, "type": "value_error"}])
        if merged["category_id"] != stored["category_id"]:
            _require_category(conn, merged["category_id"])
        row = repository.update_course(
            conn,
            course_id,
            merged["title"],
            merged["description"],
            merged["is_free"],
            merged["price"],
            merged["duration_minutes"],
            merged["level"],
            merged["category_id"],
        )
        _record_facts_change(conn, course_id, events.COURSE_UPDATED)
        search_text_after = repository.search_text_of(conn, course_id)
    cache().invalidate(_course_version(course_id))
    _invalidate_catalogue([search_text_before, search_text_after], {stored["category_id"], row["category_id"]})
    return CourseOut(**row)


def opens_course(caller: Principal | None, course: CourseOut) -> bool:
    """Whether the caller may open every lesson of the course (a preview lesson opens to anyone)."""
    if course.is_free:
        return True
    if caller is None:
        return False
    if caller.role == Role.ADMIN or caller.user_id == course.teacher_id:
        return True
    return caller.role == Role.STUDENT and repository.is_enrolled(database(), caller.user_id, course.id)


def _full_curriculum(course_id: UUID) -> Curriculum:
    """The course with its modules and their lessons, content included, in one statement whatever their number.

    Cached as "full-curriculum"; never answered before curriculum() has cut it to the caller.
    """

    def load() -> Curriculum:
        rows = database().statement(repository.CURRICULUM, (course_id,))
        if not rows:
            raise NotFoundError(COURSE_NOT_FOUND)
        modules = [ModuleWithLessons.model_validate(module) for module in rows[0]["modules"]]
        return Curriculum(
            course=CourseOut(**rows[0]),
            modules=modules,
            total_lessons=sum(len(module.lessons) for module in modules),
        )

    return cache().read_through(
        "full-curriculum", str(course_id), [_course_version(course_id)], Curriculum, load, COURSE_TTL_SECONDS
    )


def curriculum(course_id: UUID, caller: Principal | None) -> Curriculum:
    """The outline for everyone; ``content`` and ``video_url`` only of the lessons the caller may open."""
    full = _full_curriculum(course_id)
    if opens_course(caller, full.course):
        return full
    return full.model_copy(
        update={
            "modules": [
                module.model_copy(
                    update={
                        "lessons": [
                            lesson
                            if lesson.is_preview
                            else lesson.model_copy(update={"content": None, "video_url": None})
                            for lesson in module.lessons
                        ]
                    }
                )
                for module in full.modules
            ]
        }
    )


# ---- modules ---------------------------------------------------------------------------------------------


def create_module(teacher: Principal, course_id: UUID, request: ModuleCreate) -> ModuleOut:
    with database().transaction() as conn:
        stored = repository.course_by_id(conn, course_id)
        if stored is None:
            raise NotFoundError(COURSE_NOT_FOUND)
        _ensure_owner(teacher, stored["teacher_id"])
        module = ModuleOut(**repository.insert_module(conn, course_id, request.title, request.order))
    cache().invalidate(_course_version(course_id))
    return module


def _owned_module(conn: Connection, teacher: Principal, module_id: UUID) -> dict[str, Any]:
    stored = repository.module_with_teacher(conn, module_id, for_update=True)
    if stored is None:
        raise NotFoundError(MODULE_NOT_FOUND)
    _ensure_owner(teacher, stored["teacher_id"])
    return stored


def update_module(teacher: Principal, module_id: UUID, request: ModuleUpdate) -> ModuleOut:
    with database().transaction() as conn:
        merged = {**_owned_module(conn, teacher, module_id), **request.model_dump(exclude_unset=True)}
        module = ModuleOut(**repository.update_module(conn, module_id, merged["title"], merged["order"]))
    cache().invalidate(_course_version(module.course_id))
    return module


def delete_module(teacher: Principal, module_id: UUID) -> None:
    with database().transaction() as conn:
        course_id = _owned_module(conn, teacher, module_id)["course_id"]
        lesson_ids = repository.lesson_ids_of_module(conn, module_id)
        repository.delete_module(conn, module_id)  # its lessons go with it
        if lesson_ids:
            repository.next_facts_version(conn, course_id)
            for lesson_id in lesson_ids:  # one version: the course's facts after the whole module is gone
                _record_facts_change(
                    conn, course_id, events.LESSON_DELETED, new_version=False, lesson_id=str(lesson_id)
                )
    cache().invalidate(_course_version(course_id), *(_lesson_version(lesson_id) for lesson_id in lesson_ids))
    audit.audit(
        audit.MODULE_DELETED, actor=teacher.user_id, subject=module_id, course=course_id, lessons=len(lesson_ids)
    )


# ---- lessons ---------------------------------------------------------------------------------------------


def create_lesson(teacher: Principal, module_id: UUID, request: LessonCreate) -> LessonOut:
    with database().transaction() as conn:
        module = repository.module_with_teacher(conn, module_id)
        if module is None:
            raise NotFoundError(MODULE_NOT_FOUND)
        _ensure_owner(teacher, module["teacher_id"])
        row = repository.insert_lesson(
            conn,
            module_id,
            request.title,
            request.content,
            request.video_url,
            request.duration_minutes,
            request.order,
            request.is_preview,
        )
        _record_facts_change(conn, module["course_id"], events.LESSON_CREATED, lesson_id=str(row["id"]))
    cache().invalidate(_course_version(module["course_id"]))
    return LessonOut(**row)


def _stored_lesson(lesson_id: UUID) -> StoredLesson:
    """The lesson, content included, with its course_id; cached as "stored-lesson", answered only by lesson()."""

    def load() -> StoredLesson:
        rows = database().statement(repository.LESSON_BY_ID, (lesson_id,))
        if not rows:
            raise NotFoundError(LESSON_NOT_FOUND)
        return StoredLesson(**rows[0])

    return cache().read_through(
        "stored-lesson", str(lesson_id), [_lesson_version(lesson_id)], StoredLesson, load, COURSE_TTL_SECONDS
    )


def lesson(lesson_id: UUID, caller: Principal | None) -> LessonOut:
    """The lesson, for a caller who may open it: 401 for anyone else anonymous, 403 for anyone else signed in."""
    stored = _stored_lesson(lesson_id)
    if not stored.is_preview and not opens_course(caller, course(stored.course_id)):
        if caller is None:
            raise UnauthorizedError("Not authenticated")
        raise ForbiddenError(ENROLL_TO_OPEN)
    return LessonOut(**stored.model_dump(exclude={"course_id"}))


def _owned_lesson(conn: Connection, teacher: Principal, lesson_id: UUID) -> dict[str, Any]:
    stored = repository.lesson_with_course(conn, lesson_id, for_update=True)
    if stored is None:
        raise NotFoundError(LESSON_NOT_FOUND)
    _ensure_owner(teacher, stored["teacher_id"])
    return stored


def update_lesson(teacher: Principal, lesson_id: UUID, request: LessonUpdate) -> LessonOut:
    with database().transaction() as conn:
        merged = {**_owned_lesson(conn, teacher, lesson_id), **request.model_dump(exclude_unset=True)}
        row = repository.update_lesson(
            conn,
            lesson_id,
            merged["title"],
            merged["content"],
            merged["video_url"],
            merged["duration_minutes"],
            merged["order"],
            merged["is_preview"],
        )
    cache().invalidate(_lesson_version(lesson_id), _course_version(merged["course_id"]))
    return LessonOut(**row)


def delete_lesson(teacher: Principal, lesson_id: UUID) -> None:
    with database().transaction() as conn:
        course_id = _owned_lesson(conn, teacher, lesson_id)["course_id"]
        repository.delete_lesson(conn, lesson_id)
        _record_facts_change(conn, course_id, events.LESSON_DELETED, lesson_id=str(lesson_id))
    cache().invalidate(_lesson_version(lesson_id), _course_version(course_id))
    audit.audit(audit.LESSON_DELETED, actor=teacher.user_id, subject=lesson_id, course=course_id)


# ---- reviews ---------------------------------------------------------------------------------------------


def create_review(student_id: UUID, request: ReviewCreate) -> ReviewOut:
    """Record the review of a student enrolled in the course (course_enrollments) and update the
    course's avg_rating and review_count in one transaction."""
    try:
        with database().transaction() as conn:
            # Updating the course first locks its row, so reviews of one course are applied one after another.
            if not repository.add_rating_to_course(conn, request.course_id, request.rating):
                raise NotFoundError(COURSE_NOT_FOUND)
            if not repository.is_enrolled_in(conn, student_id, request.course_id):
                raise ForbiddenError(ENROLL_TO_REVIEW)  # the rating added above rolls back
            row = repository.insert_review(conn, request.course_id, student_id, request.rating, request.comment)
    except repository.AlreadyReviewed:
        raise Conflict(ALREADY_REVIEWED) from None  # the transaction rolled back the rating too
    cache().invalidate(_course_version(request.course_id), CATALOGUE)  # the course's rating changed
    return ReviewOut(**row)


def course_reviews(
    course_id: UUID, limit: int, offset: int = 0, cursor: str | None = None, with_total: bool = False
) -> CursorPage[ReviewOut]:
    """A course's reviews, newest first, by offset or cursor (bound to this course's list)."""
    return keyset_list(
        ReviewOut,
        "GET /reviews/course/{course_id}",
        repository.COURSE_REVIEWS,
        {"course_id": course_id},
        limit,
        offset,
        cursor,
        with_total,
    )


# ---- facts for other domains (internal functions) -------------------------------------------------------------------


def course_facts(course_id: UUID) -> dict[str, Any] | None:
    """What enrollment and payment keep of a course (as its events carry it), or None when it does not exist."""
    with database().transaction() as conn:
        row = repository.course_facts(conn, course_id)
    return None if row is None else _facts_answer(row)


def course_facts_page(after: UUID | None, limit: int) -> list[dict[str, Any]]:
    """Course facts in course id order after ``after`` (rebuilding a read model)."""
    with database().transaction() as conn:
        rows = repository.course_facts_page(conn, after, limit)
    return [_facts_answer(row) for row in rows]


def _facts_answer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "course_id": str(row["course_id"]),
        "teacher_id": str(row["teacher_id"]),
        "title": row["title"],
        "level": row["level"],
        "is_free": row["is_free"],
        "price": None if row["price"] is None else f"{row['price']:.2f}",
        "total_lessons": row["total_lessons"],
        "version": row["version"],
        "lesson_ids": [str(lesson_id) for lesson_id in row["lesson_ids"]],
    }
