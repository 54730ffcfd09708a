import { useId, type InputHTMLAttributes } from "react";

/** A checkbox with its label after it. Apart from Field.tsx: only the course editor uses it, and this keeps it out of the first page. */
export function Checkbox({ label, ...input }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field field-checkbox">
      <input id={id} type="checkbox" {...input} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}
