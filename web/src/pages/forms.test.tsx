import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import LoginPage from "./LoginPage";
import RegisterPage from "./RegisterPage";
import ResetPasswordPage from "./ResetPasswordPage";
import { fakeApi, json, renderPage, tokens } from "../test/helpers";
import { REFRESH_TOKEN_KEY } from "../api/session";

describe("Log in form", () => {
  it("shows the API's 422 message at the field it belongs to", async () => {
    const api = fakeApi({
      "POST /login": () =>
        json(422, { detail: [{ loc: ["body", "email"], msg: "value is not a valid email address: An email address must have an @-sign.", type: "value_error" }] }),
    });
    renderPage(<LoginPage />, { path: "/login", route: "/login", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("Email"), "nobody");
    await userEvent.type(screen.getByLabelText("Password"), "password123");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));

    const email = screen.getByLabelText("Email");
    expect(await screen.findByText(/must have an @-sign/)).toBeInTheDocument();
    expect(email).toHaveAttribute("aria-invalid", "true");
    expect(email).toHaveAccessibleDescription(/must have an @-sign/);
    expect(screen.getByLabelText("Password")).not.toHaveAttribute("aria-invalid");
  });

  it("shows a wrong password in words and stays on the page", async () => {
    const api = fakeApi({ "POST /login": () => json(400, { detail: "Incorrect email or password" }) });
    renderPage(<LoginPage />, { path: "/login", route: "/login", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "wrong-password");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect email or password");
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });

  it("signs in, keeps the refresh token and goes to ?next=", async () => {
    const api = fakeApi({ "POST /login": () => json(200, tokens("u1", "student", "rt-login")) });
    const { session } = renderPage(<LoginPage />, { path: "/login", route: "/login?next=/my-learning", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "password123");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("Navigated away")).toBeInTheDocument();
    expect(api.calls[0]!.body).toEqual({ email: "ada@example.com", password: "password123" });
    expect(session.getState().claims?.sub).toBe("u1");
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe("rt-login");
  });
});

describe("Register form", () => {
  it("sends the chosen role and shows each 422 message at its field", async () => {
    const api = fakeApi({
      "POST /register": () =>
        json(422, {
          detail: [
            { loc: ["body", "password"], msg: "String should have at least 8 characters", type: "string_too_short" },
            { loc: ["body", "name"], msg: "String should have at least 1 character", type: "string_too_short" },
          ],
        }),
    });
    renderPage(<RegisterPage />, { path: "/register", route: "/register", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("Email"), "t@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByLabelText(/Teach/));
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));

    expect(await screen.findByText("String should have at least 8 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription(/at least 8 characters/);
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("String should have at least 1 character");
    expect(api.calls[0]!.body).toMatchObject({ email: "t@example.com", role: "teacher" });
  });

  it("shows a taken email (409) in words", async () => {
    const api = fakeApi({ "POST /register": () => json(409, { detail: "Email already registered" }) });
    renderPage(<RegisterPage />, { path: "/register", route: "/register", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("Name"), "Ada");
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "password123");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Email already registered");
  });
});

describe("Reset password form", () => {
  it("sends the token from the link with the new password", async () => {
    const api = fakeApi({ "POST /reset-password": () => new Response(null, { status: 204 }) });
    renderPage(<ResetPasswordPage />, { path: "/reset-password", route: "/reset-password?token=abc.def", fetch: api.fetch });
    await userEvent.type(screen.getByLabelText("New password"), "new-password-1");
    await userEvent.click(screen.getByRole("button", { name: "Set new password" }));
    expect(await screen.findByText(/Your password is changed/)).toBeInTheDocument();
    expect(api.calls[0]!.body).toEqual({ token: "abc.def", new_password: "new-password-1" });
  });
});
