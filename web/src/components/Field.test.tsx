import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { SelectField, TextArea, TextField } from "./Field";

describe("Fields", () => {
  it("tie the label, the hint and the error to the control, and mark it invalid only with an error", () => {
    const { rerender } = render(<TextField label="Password" hint="8 to 72 characters." />);
    const input = screen.getByLabelText("Password");
    expect(input.tagName).toBe("INPUT");
    expect(input).toHaveAccessibleDescription("8 to 72 characters.");
    expect(input).not.toHaveAttribute("aria-invalid");

    rerender(<TextField label="Password" hint="8 to 72 characters." error="Too short" />);
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAccessibleDescription("8 to 72 characters. Too short");

    rerender(<TextField label="Password" />);
    expect(input).not.toHaveAttribute("aria-describedby");
    expect(input).not.toHaveAttribute("aria-invalid");
  });

  it("give every field its own ids", () => {
    render(
      <>
        <TextField label="Title" error="Required" />
        <TextArea label="Content" error="Too long" />
      </>,
    );
    expect(screen.getByLabelText("Title")).toHaveAccessibleDescription("Required");
    expect(screen.getByLabelText("Content").tagName).toBe("TEXTAREA");
    expect(screen.getByLabelText("Content")).toHaveAccessibleDescription("Too long");
  });

  it("show a select's hint and error and describe the select with both", () => {
    render(
      <SelectField label="Level" hint="How much the course expects" error="Not a level">
        <option value="beginner">Beginner</option>
      </SelectField>,
    );
    const select = screen.getByRole("combobox", { name: "Level" });
    expect(screen.getByText("How much the course expects")).toBeInTheDocument();
    expect(select).toHaveAccessibleDescription("How much the course expects Not a level");
    expect(select).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("option", { name: "Beginner" })).toBeInTheDocument();
  });

  it("let the caller's attributes through to the control", () => {
    render(<TextField label="Email" type="email" required defaultValue="a@example.com" />);
    const input = screen.getByLabelText("Email");
    expect(input).toHaveAttribute("type", "email");
    expect(input).toBeRequired();
    expect(input).toHaveValue("a@example.com");
  });
});
