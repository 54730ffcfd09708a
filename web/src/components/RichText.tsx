import DOMPurify from "dompurify";
import { useMemo } from "react";

// The API stores rich text sanitised already; this is the second line of defence. No style
// attributes (the CSP allows no inline styles), links open safely.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("target") === "_blank") {
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

export function sanitize(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_ATTR: ["style"], FORBID_TAGS: ["style", "form", "input"] });
}

export function RichText({ html, className }: { html: string; className?: string }) {
  const clean = useMemo(() => sanitize(html), [html]);
  return <div className={className ?? "rich-text"} dangerouslySetInnerHTML={{ __html: clean }} />;
}
