import { Link, useLocation, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { ApiError, apiErrorFrom } from "../api/errors";
import { useApi, useSession } from "../context";
import { useCurriculum } from "../courses";
import { useCompletedLessons, useEnrollment } from "../enrollment";
import { RichText } from "../components/RichText";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function Video({ url, title }: { url: string; title: string }) {
  if (!isHttpUrl(url)) return null;
  if (/\.(mp4|webm|ogg)(\?|$)/i.test(url)) {
    return (
      <video controls preload="metadata" src={url} aria-label={`Video: ${title}`} className="video">
        <a href={url}>Download the video</a>
      </video>
    );
  }
  return (
    <p>
      <a href={url} target="_blank" rel="noopener noreferrer">
        Watch the video for this lesson
      </a>
    </p>
  );
}

export default function LessonPage() {
  const { courseId = "", lessonId = "" } = useParams();
  const api = useApi();
  const queryClient = useQueryClient();
  const location = useLocation();
  const { status, claims } = useSession();

  const lesson = useQuery({
    queryKey: ["lesson", lessonId, claims?.sub],
    queryFn: () => unwrap(api.GET("/lessons/{lesson_id}", { params: { path: { lesson_id: lessonId } } })),
  });
  const curriculum = useCurriculum(courseId);
  const enrollment = useEnrollment(courseId);
  const enrolled = Boolean(enrollment.data);
  const completed = useCompletedLessons(courseId, enrolled);
  const progress = useQuery({
    queryKey: ["progress", claims?.sub, courseId],
    enabled: enrolled,
    queryFn: () => unwrap(api.GET("/progress/courses/{course_id}", { params: { path: { course_id: courseId } } })),
  });

  const complete = useMutation({
    mutationFn: async () => {
      const { response, error } = await api.POST("/progress/lessons/{lesson_id}/complete", {
        params: { path: { lesson_id: lessonId } },
        body: { course_id: courseId },
      });
      // 409: already completed (e.g. a retry of a request that did arrive)
      if (!response.ok && response.status !== 409) throw apiErrorFrom(response.status, error);
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["completed"] });
      void queryClient.invalidateQueries({ queryKey: ["progress"] });
      void queryClient.invalidateQueries({ queryKey: ["enrollment"] });
      void queryClient.invalidateQueries({ queryKey: ["enrollments"] });
    },
  });

  usePageTitle(lesson.data?.title ?? "Lesson");

  const flat = curriculum.data?.modules.flatMap((m) => m.lessons) ?? [];
  const index = flat.findIndex((l) => l.id === lessonId);
  const previous = index > 0 ? flat[index - 1] : undefined;
  const next = index >= 0 && index < flat.length - 1 ? flat[index + 1] : undefined;
  const done = completed.data?.has(lessonId) ?? false;

  const nav = (
    <nav aria-label="Lessons" className="lesson-nav">
      <Link to={`/courses/${courseId}`}>Back to the course</Link>
      {previous ? <Link to={`/courses/${courseId}/lessons/${previous.id}`}>Previous lesson</Link> : null}
      {next ? <Link to={`/courses/${courseId}/lessons/${next.id}`}>Next lesson</Link> : null}
    </nav>
  );

  if (lesson.isPending) return <Loading label="Loading the lesson…" />;
  if (lesson.isError) {
    const e = lesson.error;
    const stat = e instanceof ApiError ? e.status : 0;
    const title = flat[index]?.title ?? "Lesson";
    return (
      <>
        <h1>{title}</h1>
        <ErrorMessage error={e} />
        {stat === 401 || (stat === 403 && status !== "signedIn") ? (
          <p>
            <Link to={`/login?next=${encodeURIComponent(location.pathname)}`}>Log in to open this lesson</Link>
          </p>
        ) : null}
        {stat === 403 ? (
          <p>
            <Link to={`/courses/${courseId}`}>Enroll on the course page</Link> to open its lessons.
            {enrolled ? " You are enrolled: the lessons open within a few seconds, reload the page." : ""}
          </p>
        ) : null}
        {nav}
      </>
    );
  }

  const l = lesson.data;
  const pct = progress.data?.percentage ?? 0;
  return (
    <article className="lesson">
      <p className="hint">
        {curriculum.data ? (
          <Link to={`/courses/${courseId}`}>{curriculum.data.course.title}</Link>
        ) : (
          <Link to={`/courses/${courseId}`}>Course</Link>
        )}
        {index >= 0 ? ` · Lesson ${index + 1} of ${flat.length}` : ""}
      </p>
      <h1>{l.title}</h1>
      {enrolled && progress.data ? (
        <div className="progress">
          <label htmlFor="course-progress">Course progress</label>{" "}
          <progress id="course-progress" max={100} value={pct}>
            {pct}%
          </progress>{" "}
          <span>
            {progress.data.completed_lessons} of {progress.data.total_lessons} lessons ({pct}%)
          </span>
        </div>
      ) : null}
      {enrollment.data?.status === "completed" || pct >= 100 ? <Notice>Course completed: you have finished every lesson.</Notice> : null}
      {l.video_url ? <Video url={l.video_url} title={l.title} /> : null}
      {l.content ? <RichText html={l.content} /> : <p>This lesson has no text.</p>}
      {enrolled && claims?.role === "student" ? (
        <div className="complete">
          {done ? (
            <p role="status">
              <span aria-hidden="true">✓ </span>Lesson completed
            </p>
          ) : (
            <button type="button" className="button button-primary" onClick={() => complete.mutate()} disabled={complete.isPending}>
              Complete lesson
            </button>
          )}
          <ErrorMessage error={complete.error} prefix="The lesson could not be marked complete" />
        </div>
      ) : null}
      <ErrorMessage error={curriculum.error} prefix="The course outline could not be loaded" />
      {nav}
    </article>
  );
}
