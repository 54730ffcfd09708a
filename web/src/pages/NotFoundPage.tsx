import { Link } from "react-router";
import { usePageTitle } from "../usePageTitle";

export default function NotFoundPage() {
  usePageTitle("Page not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Browse courses</Link>
      </p>
    </>
  );
}
