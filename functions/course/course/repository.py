"""SQL of the course domain."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from eduplatform.cursors import KeysetList, KeysetOrder
from eduplatform.db import Connection, Database, one

from course.schemas import CatalogueQuery

COURSE_COLUMNS = (
    "id, teacher_id, title, description, is_free, price, duration_minutes, level::text AS level, "
    "avg_rating, review_count, created_at, category_id"
)
# A course's teacher's name (the teachers table, from UserRegistered events), null until known.
TEACHER_NAME_OF = "(SELECT name FROM teachers WHERE teachers.id = {table}.teacher_id) AS teacher_name"
# What a CourseOut answer is made of, for statements reading courses by their table's name.
COURSE_OUT_COLUMNS = f"{COURSE_COLUMNS}, {TEACHER_NAME_OF.format(table='courses')}"
MODULE_COLUMNS = 'id, course_id, title, position AS "order", created_at'
LESSON_COLUMNS = (
    'id, module_id, title, content, video_url, duration_minutes, position AS "order", is_preview, created_at'
)
REVIEW_COLUMNS = "id, student_id, course_id, rating, comment, created_at"

# search_text is lower(title || chr(31) || description), with a trigram index (migration 002).
SEARCH_CONDITION = "search_text LIKE lower(%(pattern)s)"


class AlreadyReviewed(Exception):
    pass


def substring_pattern(term: str) -> str:
    """A LIKE pattern matching ``term`` literally anywhere: its own %, _ and \\ are escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---- courses ---------------------------------------------------------------------------------------------

# A free course's price counts as 0; a course without a rating as 0 (after every rated one):
# stored generated columns (migration 005), also columns of catalogue_counts, which the filters'
# conditions below are written for as well as for courses.
PRICE_KEY = "price_key"
RATING_KEY = "rating_key"
# Each catalogue order is exactly that of an index (migrations 004 and 005; newest: 001), with
# and without a category in front. The page selects the key as sort_key (what a cursor holds).
# Offsets from which a page skips its rows in the sort's index before reading the table (below
# it the extra join costs more than it saves: ~0.1 ms on a first page).
DEEP_OFFSET = 1000

SORTS = {
    "newest": KeysetOrder("created_at", True, "timestamptz", row_key="sort_key"),
    "rating": KeysetOrder(RATING_KEY, True, "numeric", row_key="sort_key"),
    "price_asc": KeysetOrder(PRICE_KEY, False, "numeric", row_key="sort_key"),
    "price_desc": KeysetOrder(PRICE_KEY, True, "numeric", row_key="sort_key"),
    "popular": KeysetOrder("enrollment_count", True, "integer", row_key="sort_key"),
}


def catalogue_conditions(query: CatalogueQuery) -> tuple[list[str], dict[str, Any]]:
    """The WHERE conditions of the catalogue's search and filters, with their parameters."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if query.term:
        conditions.append(SEARCH_CONDITION)
        params["pattern"] = substring_pattern(query.term)
    if query.category_id is not None:
        conditions.append("category_id = %(category_id)s")
        params["category_id"] = query.category_id
    if query.level is not None:
        conditions.append("level = %(level)s::course_level")
        params["level"] = query.level
    if query.is_free is not None:
        # Said with the price key (courses_price_matches_is_free: free <=> no price, paid <=> price > 0),
        # so under a price sort it bounds the scan of the price index instead of filtering 50,000 rows.
        conditions.append(f"{PRICE_KEY} = 0" if query.is_free else f"{PRICE_KEY} > 0")
    if query.price_min is not None:
        conditions.append(f"{PRICE_KEY} >= %(price_min)s")
        params["price_min"] = query.price_min
    if query.price_max is not None:
        conditions.append(f"{PRICE_KEY} <= %(price_max)s")
        params["price_max"] = query.price_max
    if query.min_rating is not None:
        conditions.append(f"{RATING_KEY} >= %(min_rating)s")
        params["min_rating"] = query.min_rating
    return conditions, params


def catalogue_queries(
    query: CatalogueQuery, after: dict[str, Any] | None = None, offset: int = 0
) -> tuple[str, str, dict[str, Any]]:
    """The page and count statements of the public catalogue for a query (search, filters, sort).

    The page selects each row's ``sort_key`` too (what a cursor after it holds); with ``after``
    (the parameters of a cursor's key and id) it reads the rows after that one instead of skipping an offset.
    From DEEP_OFFSET on, the rows skipped are skipped in the sort's index alone (its entries hold the
    key and the id) and only the page's rows are read from the table: the offset 95,000 of the
    newest courses costs ~9 ms instead of ~27 ms (docs/performance.md, "Deep offset pages").
    """
    conditions, params = catalogue_conditions(query)
    order = SORTS[query.sort]
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    if query.term:
        count = f"SELECT count(*) AS n FROM courses {where}"
    else:  # the filters name catalogue_counts' columns too (migration 005): a sum over ~4,300 rows
        count = f"SELECT coalesce(sum(courses), 0) AS n FROM catalogue_counts {where}"
    page_params = dict(params)
    if after:
        conditions = [*conditions, order.after]
        page_params.update(after)
    page_where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = f"courses {page_where} {order.order_by} LIMIT %(limit)s OFFSET %(offset)s"
    if offset >= DEEP_OFFSET:
        rows = f"courses JOIN (SELECT id FROM {rows}) AS page USING (id) {order.order_by}"
    page = f"SELECT {COURSE_COLUMNS}, {order.key} AS sort_key FROM {rows}"
    return page, count, page_params  # the count ignores the cursor's parameters


def catalogue(
    db: Database,
    query: CatalogueQuery,
    limit: int,
    offset: int,
    after: dict[str, Any] | None = None,
    with_total: bool = True,
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` rows (callers ask one more to learn whether a next page exists), and the total when asked.

    Each row's teacher_name is looked up around the page, so only the page's rows are looked up
    (not the rows an offset skips or a sort reads). One statement on its own, so one round trip (a transaction around two would take four) and
    the total counted in the page's snapshot: the count's single row, joined to the page's rows
    (none on a page past the end, hence the outer join).
    """
    page, count, params = catalogue_queries(query, after, offset)
    params = {**params, "limit": limit, "offset": offset}
    # The connection never prepares (eduplatform.db): a prepared statement could switch to a generic
    # plan that cannot see the pattern, and estimate its way into a sequential scan.
    direction = "DESC" if SORTS[query.sort].descending else "ASC"
    in_page_order = f"ORDER BY page.sort_key {direction}, page.id {direction}"
    teacher_name = TEACHER_NAME_OF.format(table="page")
    if not with_total:
        return db.statement(f"SELECT page.*, {teacher_name} FROM ({page}) AS page {in_page_order}", params), None
    rows = db.statement(
        f"SELECT counted.n AS total, page.*, {teacher_name} FROM ({count}) AS counted "
        f"LEFT JOIN LATERAL ({page}) AS page ON true {in_page_order}",
        params,
    )
    return [row for row in rows if row["id"] is not None], rows[0]["total"]


def search_text_of(conn: Connection, course_id: UUID) -> str:
    text: str = one(conn.execute("SELECT search_text FROM courses WHERE id = %s", (course_id,)))["search_text"]
    return text


def terms_matching(conn: Connection, terms: list[str], search_texts: list[str]) -> list[str]:
    """The terms whose search (SEARCH_CONDITION, the same LIKE) matches any of the texts."""
    rows = conn.execute(
        "SELECT DISTINCT term FROM unnest(%(terms)s::text[], %(patterns)s::text[]) AS searched (term, pattern) "
        "JOIN unnest(%(texts)s::text[]) AS written (search_text) ON written.search_text LIKE lower(searched.pattern)",
        {"terms": terms, "patterns": [substring_pattern(term) for term in terms], "texts": search_texts},
        prepare=False,
    ).fetchall()
    return [row["term"] for row in rows]


# A teacher's courses (GET /courses/my), newest first: courses_teacher_newest_idx.
TEACHER_COURSES = KeysetList("courses", COURSE_OUT_COLUMNS, "teacher_id = %(teacher_id)s")


COURSE_BY_ID = f"SELECT {COURSE_OUT_COLUMNS} FROM courses WHERE id = %s"


def course_by_id(conn: Connection, course_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"{COURSE_BY_ID}{lock}", (course_id,)).fetchone()


def insert_course(
    conn: Connection,
    teacher_id: UUID,
    title: str,
    description: str | None,
    is_free: bool,
    price: Decimal | None,
    duration_minutes: int,
    level: str,
    category_id: UUID | None,
) -> dict[str, Any]:
    return one(
        conn.execute(
            "INSERT INTO courses (teacher_id, title, description, is_free, price, duration_minutes, level, category_id) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COURSE_OUT_COLUMNS}",
            (teacher_id, title, description, is_free, price, duration_minutes, level, category_id),
        )
    )


def update_course(
    conn: Connection,
    course_id: UUID,
    title: str,
    description: str | None,
    is_free: bool,
    price: Decimal | None,
    duration_minutes: int,
    level: str,
    category_id: UUID | None,
) -> dict[str, Any]:
    return one(
        conn.execute(
            "UPDATE courses SET title = %s, description = %s, is_free = %s, price = %s, duration_minutes = %s, level = %s, "
            f"category_id = %s WHERE id = %s RETURNING {COURSE_OUT_COLUMNS}",
            (title, description, is_free, price, duration_minutes, level, category_id, course_id),
        )
    )


# ---- categories and popularity ---------------------------------------------------------------------------


def categories(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT id, slug, name FROM categories ORDER BY name, id").fetchall()


def category_exists(conn: Connection, category_id: UUID) -> bool:
    return conn.execute("SELECT 1 FROM categories WHERE id = %s", (category_id,)).fetchone() is not None


def count_enrollment(conn: Connection, event_id: UUID, course_id: UUID, student_id: UUID) -> bool:
    """Count one enrollment of the course and record the student's enrollment in it, unless this
    event was applied already; whether it was applied now."""
    first_time = conn.execute(
        "INSERT INTO applied_enrollment_events (event_id, course_id) VALUES (%s, %s) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        (event_id, course_id),
    ).fetchone()
    if first_time is None:
        return False
    conn.execute("UPDATE courses SET enrollment_count = enrollment_count + 1 WHERE id = %s", (course_id,))
    conn.execute(
        "INSERT INTO course_enrollments (student_id, course_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (student_id, course_id),
    )
    return True


def record_teacher(conn: Connection, teacher_id: UUID, name: str) -> list[UUID] | None:
    """Keep a teacher's name; the ids of the teacher's courses when the name is new here (their
    answers named no teacher until now), None when it was known already (a redelivered event)."""
    recorded = conn.execute(
        "INSERT INTO teachers (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (teacher_id, name),
    ).fetchone()
    if recorded is None:
        return None
    rows = conn.execute("SELECT id FROM courses WHERE teacher_id = %s", (teacher_id,)).fetchall()
    return [row["id"] for row in rows]


ENROLLED = "SELECT 1 AS enrolled FROM course_enrollments WHERE student_id = %s AND course_id = %s"


def is_enrolled(db: Database, student_id: UUID, course_id: UUID) -> bool:
    """Whether an EnrollmentCreated event of the student in the course has been applied."""
    return bool(db.statement(ENROLLED, (student_id, course_id)))


def is_enrolled_in(conn: Connection, student_id: UUID, course_id: UUID) -> bool:
    """is_enrolled, in the caller's transaction."""
    return conn.execute(ENROLLED, (student_id, course_id)).fetchone() is not None


# What other domains keep of a course (eduplatform.read_models.CourseFacts): the facts and the lesson ids.
FACTS_QUERY = (
    "SELECT c.id AS course_id, c.teacher_id, c.title, c.level::text AS level, c.is_free, c.price, "
    "c.facts_version AS version, "
    "ARRAY(SELECT lessons.id FROM modules JOIN lessons ON lessons.module_id = modules.id "
    "WHERE modules.course_id = c.id ORDER BY lessons.id) AS lesson_ids FROM courses c {where}"
)


def _facts(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "total_lessons": len(row["lesson_ids"])}


def course_facts(conn: Connection, course_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(FACTS_QUERY.format(where="WHERE c.id = %s"), (course_id,)).fetchone()
    return None if row is None else _facts(row)


def course_facts_page(conn: Connection, after: UUID | None, limit: int) -> list[dict[str, Any]]:
    """Course facts in course id order, after the given id (the read models' rebuild)."""
    where = "WHERE c.id > %(after)s ORDER BY c.id LIMIT %(limit)s" if after else "ORDER BY c.id LIMIT %(limit)s"
    return [_facts(row) for row in conn.execute(FACTS_QUERY.format(where=where), {"after": after, "limit": limit})]


def next_facts_version(conn: Connection, course_id: UUID) -> None:
    """Count one more change of the course's facts; the row stays locked until commit."""
    conn.execute("UPDATE courses SET facts_version = facts_version + 1 WHERE id = %s", (course_id,))


# ---- modules ---------------------------------------------------------------------------------------------


def module_with_teacher(conn: Connection, module_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    """The module and its course's teacher_id."""
    lock = " FOR UPDATE OF modules" if for_update else ""
    return conn.execute(
        f'SELECT modules.id, modules.course_id, modules.title, modules.position AS "order", modules.created_at, '
        f"courses.teacher_id FROM modules JOIN courses ON courses.id = modules.course_id WHERE modules.id = %s{lock}",
        (module_id,),
    ).fetchone()


def insert_module(conn: Connection, course_id: UUID, title: str, position: int | None) -> dict[str, Any]:
    return one(
        conn.execute(
            "INSERT INTO modules (course_id, title, position) SELECT %(course_id)s, %(title)s, "
            "COALESCE(%(position)s::integer, (SELECT COALESCE(max(position) + 1, 0) FROM modules WHERE course_id = %(course_id)s)) "
            f"RETURNING {MODULE_COLUMNS}",
            {"course_id": course_id, "title": title, "position": position},
        )
    )


def update_module(conn: Connection, module_id: UUID, title: str, position: int) -> dict[str, Any]:
    return one(
        conn.execute(
            f"UPDATE modules SET title = %s, position = %s WHERE id = %s RETURNING {MODULE_COLUMNS}",
            (title, position, module_id),
        )
    )


def delete_module(conn: Connection, module_id: UUID) -> None:
    conn.execute("DELETE FROM modules WHERE id = %s", (module_id,))  # lessons go by ON DELETE CASCADE


# ---- lessons ---------------------------------------------------------------------------------------------


# A lesson with its module's course_id (its access is decided from that course).
LESSON_BY_ID = (
    "SELECT lessons.id, lessons.module_id, lessons.title, lessons.content, lessons.video_url, lessons.duration_minutes, "
    'lessons.position AS "order", lessons.is_preview, lessons.created_at, modules.course_id '
    "FROM lessons JOIN modules ON modules.id = lessons.module_id WHERE lessons.id = %s"
)

# The course's row and its modules in order, each with its lessons in order, in one statement (one
# round trip, one snapshot) whatever their number: the modules as JSON, found through
# modules_course_position_idx and lessons_module_position_idx.
CURRICULUM = (
    f'SELECT {COURSE_OUT_COLUMNS}, coalesce((SELECT json_agg(module ORDER BY module."order", module.created_at, module.id) '
    f'FROM (SELECT {MODULE_COLUMNS}, coalesce((SELECT json_agg(lesson ORDER BY lesson."order", lesson.created_at, lesson.id) '
    f"FROM (SELECT {LESSON_COLUMNS} FROM lessons WHERE module_id = modules.id) AS lesson), '[]') AS lessons "
    "FROM modules WHERE course_id = courses.id) AS module), '[]') AS modules "
    "FROM courses WHERE id = %s"
)


def lesson_ids_of_module(conn: Connection, module_id: UUID) -> list[UUID]:
    return [row["id"] for row in conn.execute("SELECT id FROM lessons WHERE module_id = %s", (module_id,)).fetchall()]


def lesson_with_course(conn: Connection, lesson_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    """The lesson plus its module's course_id and that course's teacher_id."""
    lock = " FOR UPDATE OF lessons" if for_update else ""
    return conn.execute(
        "SELECT lessons.id, lessons.module_id, lessons.title, lessons.content, lessons.video_url, "
        'lessons.duration_minutes, lessons.position AS "order", lessons.is_preview, lessons.created_at, '
        "modules.course_id, courses.teacher_id "
        "FROM lessons JOIN modules ON modules.id = lessons.module_id JOIN courses ON courses.id = modules.course_id "
        f"WHERE lessons.id = %s{lock}",
        (lesson_id,),
    ).fetchone()


def insert_lesson(
    conn: Connection,
    module_id: UUID,
    title: str,
    content: str | None,
    video_url: str | None,
    duration_minutes: int,
    position: int | None,
    is_preview: bool,
) -> dict[str, Any]:
    return one(
        conn.execute(
            "INSERT INTO lessons (module_id, title, content, video_url, duration_minutes, is_preview, position) "
            "SELECT %(module_id)s, %(title)s, %(content)s, %(video_url)s, %(duration_minutes)s, %(is_preview)s, "
            "COALESCE(%(position)s::integer, (SELECT COALESCE(max(position) + 1, 0) FROM lessons WHERE module_id = %(module_id)s)) "
            f"RETURNING {LESSON_COLUMNS}",
            {
                "module_id": module_id,
                "title": title,
                "content": content,
                "video_url": video_url,
                "duration_minutes": duration_minutes,
                "is_preview": is_preview,
                "position": position,
            },
        )
    )


def update_lesson(
    conn: Connection,
    lesson_id: UUID,
    title: str,
    content: str | None,
    video_url: str | None,
    duration_minutes: int,
    position: int,
    is_preview: bool,
) -> dict[str, Any]:
    return one(
        conn.execute(
            "UPDATE lessons SET title = %s, content = %s, video_url = %s, duration_minutes = %s, position = %s, "
            f"is_preview = %s WHERE id = %s RETURNING {LESSON_COLUMNS}",
            (title, content, video_url, duration_minutes, position, is_preview, lesson_id),
        )
    )


def delete_lesson(conn: Connection, lesson_id: UUID) -> None:
    conn.execute("DELETE FROM lessons WHERE id = %s", (lesson_id,))


# ---- reviews ---------------------------------------------------------------------------------------------


def add_rating_to_course(conn: Connection, course_id: UUID, rating: int) -> bool:
    """Count one more rating in the course's aggregates; False when the course does not exist.

    One UPDATE computes the new values from the row's current ones and holds the row lock
    until commit, so concurrent reviews of a course queue up and none is lost.
    """
    row = conn.execute(
        "UPDATE courses SET review_count = review_count + 1, rating_sum = rating_sum + %(rating)s, "
        "avg_rating = round((rating_sum + %(rating)s)::numeric / (review_count + 1), 2) "
        "WHERE id = %(course_id)s RETURNING id",
        {"course_id": course_id, "rating": rating},
    ).fetchone()
    return row is not None


def insert_review(
    conn: Connection, course_id: UUID, student_id: UUID, rating: int, comment: str | None
) -> dict[str, Any]:
    try:
        with conn.transaction():
            return one(
                conn.execute(
                    f"INSERT INTO reviews (course_id, student_id, rating, comment) VALUES (%s, %s, %s, %s) RETURNING {REVIEW_COLUMNS}",
                    (course_id, student_id, rating, comment),
                )
            )
    except psycopg.errors.UniqueViolation as exc:
        raise AlreadyReviewed(str(course_id)) from exc


# A course's reviews (GET /reviews/course/{id}), newest first: reviews_course_newest_idx.
COURSE_REVIEWS = KeysetList("reviews", REVIEW_COLUMNS, "course_id = %(course_id)s")
