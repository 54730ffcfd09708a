import { lazy } from "react";
import { Route, Routes } from "react-router";
import { Layout } from "./components/Layout";
import { CataloguePage } from "./pages/CataloguePage";

const LoginPage = lazy(() => import("./pages/LoginPage"));
const RegisterPage = lazy(() => import("./pages/RegisterPage"));
const VerifyEmailPage = lazy(() => import("./pages/VerifyEmailPage"));
const ForgotPasswordPage = lazy(() => import("./pages/ForgotPasswordPage"));
const ResetPasswordPage = lazy(() => import("./pages/ResetPasswordPage"));
const CoursePage = lazy(() => import("./pages/CoursePage"));
const LessonPage = lazy(() => import("./pages/LessonPage"));
const MyLearningPage = lazy(() => import("./pages/MyLearningPage"));
const MyCoursesPage = lazy(() => import("./pages/MyCoursesPage"));
const CourseEditorPage = lazy(() => import("./pages/CourseEditorPage"));
const PendingTeachersPage = lazy(() => import("./pages/PendingTeachersPage"));
const NotificationsPage = lazy(() => import("./pages/NotificationsPage"));
const AccountPage = lazy(() => import("./pages/AccountPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<CataloguePage />} />
        <Route path="login" element={<LoginPage />} />
        <Route path="register" element={<RegisterPage />} />
        <Route path="verify-email" element={<VerifyEmailPage />} />
        <Route path="forgot-password" element={<ForgotPasswordPage />} />
        <Route path="reset-password" element={<ResetPasswordPage />} />
        <Route path="courses/:courseId" element={<CoursePage />} />
        <Route path="courses/:courseId/lessons/:lessonId" element={<LessonPage />} />
        <Route path="my-learning" element={<MyLearningPage />} />
        <Route path="teach" element={<MyCoursesPage />} />
        <Route path="teach/courses/new" element={<CourseEditorPage />} />
        <Route path="teach/courses/:courseId" element={<CourseEditorPage />} />
        <Route path="admin/teachers" element={<PendingTeachersPage />} />
        <Route path="notifications" element={<NotificationsPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
