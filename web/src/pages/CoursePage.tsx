import { useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { newIdempotencyKey, unwrap, type Api, type Schemas } from "../api/client";
import { ApiError, apiErrorFrom, fieldErrorsOf } from "../api/errors";
import { useApi, useSession } from "../context";
import { useCourse, useCurriculum } from "../courses";
import { useCompletedLessons, useEnrollment } from "../enrollment";
import { formatDate, formatPrice } from "../format";
import { CourseFacts, Fact } from "../components/Facts";
import { PagedList, useCursorPages } from "../components/PagedList";
import { RichText } from "../components/RichText";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { SelectField, TextArea } from "../components/Field";
import { usePageTitle } from "../usePageTitle";

type Course = Schemas["CourseOut"];

async function enrollOnce(api: Api, courseId: string, paymentId: string | null): Promise<void> {
  const { response, error } = await api.POST("/enrollments", {
    body: { course_id: courseId, ...(paymentId ? { payment_id: paymentId } : {}) },
  });
  // 409: already enrolled, which is what a retry of a request that did arrive finds.
  if (response.ok || response.status === 409) return;
  throw apiErrorFrom(response.status, error, response.headers.get("Retry-After"));
}

/** The caller's completed payment for the course (GET /payments/me?course_id=: that course's payments only). */
async function paidPayment(api: Api, courseId: string): Promise<string | null> {
  const data = await unwrap(api.GET("/payments/me", { params: { query: { course_id: courseId, limit: 100 } } }));
  return data.items.find((p) => p.status === "completed")?.id ?? null;
}

function EnrollBox({ course, enrolled }: { course: Course; enrolled: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { status, claims } = useSession();
  // One key per payment attempt: a retry after a failure (timeout, 5xx) sends the same key,
  // so the API answers the first payment instead of charging twice.
  const attemptKey = useRef<string | null>(null);

  const enroll = useMutation({
    mutationFn: async () => {
      if (course.is_free || course.price === null) {
        await enrollOnce(api, course.id, null);
        return;
      }
      attemptKey.current ??= newIdempotencyKey();
      const { data, error, response } = await api.POST("/payments", {
        params: { header: { "idempotency-key": attemptKey.current } },
        body: { course_id: course.id, amount: course.price },
      });
      let paymentId: string | null = data?.id ?? null;
      if (!response.ok) {
        const failure = apiErrorFrom(response.status, error, response.headers.get("Retry-After"));
        if (response.status === 409 && /already paid/i.test(failure.message)) paymentId = await paidPayment(api, course.id);
        if (!paymentId) throw failure;
      }
      await enrollOnce(api, course.id, paymentId);
    },
    onSuccess: () => {
      attemptKey.current = null;
      void queryClient.invalidateQueries({ queryKey: ["enrollment"] });
      void queryClient.invalidateQueries({ queryKey: ["enrollments"] });
      void queryClient.invalidateQueries({ queryKey: ["count", course.id] });
      void queryClient.invalidateQueries({ queryKey: ["curriculum", course.id] });
      void queryClient.invalidateQueries({ queryKey: ["notifications"] });
    },
  });

  if (enrolled) return null;
  if (status === "signedIn" && claims && claims.role !== "student") {
    return <p className="hint">Only students can enroll in courses.</p>;
  }
  const label = course.is_free ? "Enroll" : "Pay and enroll";
  const onClick = () => {
    if (status !== "signedIn") {
      void navigate(`/login?next=${encodeURIComponent(`/courses/${course.id}`)}`);
      return;
    }
    enroll.mutate();
  };
  return (
    <div className="enroll">
      <button type="button" className="button button-primary" onClick={onClick} disabled={enroll.isPending}>
        {label}
        {course.is_free ? "" : <span className="visually-hidden"> ({formatPrice(course)})</span>}
      </button>
      {!course.is_free ? <span className="hint"> {formatPrice(course)}, paid once (test payments: nothing is charged).</span> : null}
      {enroll.isPending ? <Loading label={course.is_free ? "Enrolling…" : "Paying and enrolling…"} /> : null}
      {enroll.isError ? (
        <ErrorMessage error={enroll.error} prefix={course.is_free ? "Enrolling failed" : "Paying and enrolling failed; try again, you will not be charged twice"} />
      ) : null}
      {enroll.isSuccess ? <Notice>You are enrolled. The lessons open within a few seconds.</Notice> : null}
    </div>
  );
}

function Curriculum({ courseId, completed }: { courseId: string; completed: Set<string> | undefined }) {
  const curriculum = useCurriculum(courseId);
  return (
    <section aria-labelledby="curriculum-heading">
      <h2 id="curriculum-heading">Curriculum</h2>
      {curriculum.isPending ? <Loading label="Loading the curriculum…" /> : null}
      <ErrorMessage error={curriculum.error} prefix="The curriculum could not be loaded" />
      {curriculum.data ? (
        <>
          <p>
            {curriculum.data.total_lessons} {curriculum.data.total_lessons === 1 ? "lesson" : "lessons"}
            {completed ? `, ${[...completed].length} completed` : ""}
          </p>
          {curriculum.data.modules.length === 0 ? <p>No lessons yet.</p> : null}
          <ol className="modules">
            {curriculum.data.modules.map((m) => (
              <li key={m.id}>
                <h3>{m.title}</h3>
                <ol className="lessons">
                  {m.lessons.map((l) => {
                    const done = completed?.has(l.id) ?? false;
                    return (
                      <li key={l.id} className={done ? "done" : undefined}>
                        <span className="tick" aria-hidden="true">
                          {done ? "✓" : "○"}
                        </span>{" "}
                        <Link to={`/courses/${courseId}/lessons/${l.id}`}>{l.title}</Link>
                        {done ? <span className="visually-hidden"> (completed)</span> : null}
                        {l.is_preview ? <span className="tag">Preview</span> : null}
                        {l.duration_minutes ? <span className="hint"> {l.duration_minutes} min</span> : null}
                      </li>
                    );
                  })}
                </ol>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}

function ReviewForm({ courseId }: { courseId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [rating, setRating] = useState("5");
  const [comment, setComment] = useState("");
  const submit = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/reviews", { body: { course_id: courseId, rating: Number(rating), ...(comment.trim() ? { comment } : {}) } })),
    onSuccess: () => {
      setComment("");
      void queryClient.invalidateQueries({ queryKey: ["reviews", courseId] });
      void queryClient.invalidateQueries({ queryKey: ["course", courseId] });
    },
  });
  const fields = fieldErrorsOf(submit.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit.mutate();
  };
  if (submit.isSuccess) return <Notice>Thank you for your review.</Notice>;
  return (
    <form onSubmit={onSubmit} aria-labelledby="review-form-heading" className="review-form">
      <h3 id="review-form-heading">Write a review</h3>
      <SelectField label="Rating" value={rating} onChange={(e) => setRating(e.target.value)} error={fields.rating}>
        <option value="5">5 – excellent</option>
        <option value="4">4 – good</option>
        <option value="3">3 – fair</option>
        <option value="2">2 – poor</option>
        <option value="1">1 – bad</option>
      </SelectField>
      <TextArea label="Comment" rows={4} maxLength={5000} value={comment} onChange={(e) => setComment(e.target.value)} error={fields.comment} />
      {submit.isError && !fields.rating && !fields.comment ? <ErrorMessage error={submit.error} /> : null}
      <button type="submit" className="button" disabled={submit.isPending}>
        Submit review
      </button>
    </form>
  );
}

function Reviews({ courseId, canReview }: { courseId: string; canReview: boolean }) {
  const api = useApi();
  const reviews = useCursorPages(
    ["reviews", courseId],
    (page) => unwrap(api.GET("/reviews/course/{course_id}", { params: { path: { course_id: courseId }, query: page } })),
    { limit: 10 },
  );
  return (
    <section aria-labelledby="reviews-heading">
      <h2 id="reviews-heading">Reviews</h2>
      {canReview ? <ReviewForm courseId={courseId} /> : null}
      <PagedList
        list={reviews}
        loadingLabel="Loading reviews…"
        errorPrefix="Reviews could not be loaded"
        empty={<p>No reviews yet.</p>}
        moreLabel="Load more reviews"
      >
        {(items) => (
          <ul className="reviews">
            {items.map((r) => (
              <li key={r.id}>
                <p>
                  <strong>{r.rating} out of 5</strong> <span className="hint">· {formatDate(r.created_at)}</span>
                </p>
                {r.comment ? <p className="comment">{r.comment}</p> : null}
              </li>
            ))}
          </ul>
        )}
      </PagedList>
    </section>
  );
}

export default function CoursePage() {
  const { courseId = "" } = useParams();
  const api = useApi();
  const { claims } = useSession();
  const course = useCourse(courseId);
  const count = useQuery({
    queryKey: ["count", courseId],
    queryFn: () => unwrap(api.GET("/enrollments/course/{course_id}/count", { params: { path: { course_id: courseId } } })),
  });
  const enrollment = useEnrollment(courseId);
  const enrolled = Boolean(enrollment.data);
  const completed = useCompletedLessons(courseId, enrolled);
  usePageTitle(course.data?.title ?? "Course");

  if (course.isPending) return <Loading label="Loading the course…" />;
  if (course.isError) {
    return (
      <>
        <h1>{course.error instanceof ApiError && course.error.status === 404 ? "Course not found" : "Course"}</h1>
        <ErrorMessage error={course.error} />
        <p>
          <Link to="/">Back to the courses</Link>
        </p>
      </>
    );
  }
  const c = course.data;
  return (
    <article className="course">
      <h1>{c.title}</h1>
      <CourseFacts course={c}>
        <Fact term="Students">{count.data ? `${count.data.count} enrolled` : count.isError ? "unknown" : "…"}</Fact>
        {c.duration_minutes ? <Fact term="Duration">{c.duration_minutes} minutes</Fact> : null}
      </CourseFacts>
      {enrollment.data ? (
        <Notice>
          {enrollment.data.status === "completed"
            ? "You have completed this course."
            : enrollment.data.status === "in_progress"
              ? "You are enrolled and in progress."
              : "You are enrolled."}
        </Notice>
      ) : null}
      <ErrorMessage error={enrollment.error} prefix="Your enrollment could not be checked" />
      {enrollment.isLoading ? <Loading label="Checking your enrollment…" /> : <EnrollBox course={c} enrolled={enrolled} />}
      {c.description ? (
        <section aria-labelledby="about-heading">
          <h2 id="about-heading">About this course</h2>
          <RichText html={c.description} />
        </section>
      ) : null}
      <Curriculum courseId={courseId} completed={completed.data} />
      <Reviews courseId={courseId} canReview={enrolled && claims?.role === "student"} />
    </article>
  );
}
