/**
 * The router's own answers to a callback once Auth0 is retired and the new provider cannot
 * take it (decide.ts, PageDecision). Each says what happened and what to do, never request
 * content; the operator's contact text (settings.bounceMessage) is HTML-escaped by errorPage.
 */
import { errorPage } from "../pages";
import type { PageDecision } from "./decide";

/** What the page of a bounced login says when settings.bounceMessage is not set. */
export const DEFAULT_BOUNCE_MESSAGE =
  "Please contact your organization's IT help desk or the administrator of the application you were signing in to.";

/** The HTTP status of each page: a refused sign-in, a service that cannot route, a method it does not take. */
export const PAGE_STATUS: Record<PageDecision["page"], number> = {
  unserved: 403,
  unavailable: 503,
  "method-not-allowed": 405,
};

/**
 * `unserved` (403): the new provider bounced this login (fallback=auth0) and Auth0 is gone.
 * `unavailable` (503, Retry-After 60): the router cannot tell where the new provider is.
 * `method-not-allowed` (405, Allow: GET, POST).
 */
export function retiredPage(request: Request, decision: PageDecision, bounceMessage: string | undefined): Response {
  const status = PAGE_STATUS[decision.page];
  let response: Response;
  switch (decision.page) {
    case "unserved":
      response = errorPage(
        request,
        status,
        "We could not sign you in",
        `Your organization's sign-in provider could not sign you in to this application, and the previous sign-in service has been switched off. ${bounceMessage ?? DEFAULT_BOUNCE_MESSAGE}`,
      );
      break;
    case "unavailable":
      response = errorPage(
        request,
        status,
        "Sign-in is temporarily unavailable",
        "The sign-in service cannot complete this sign-in right now. Please try again in a few minutes, starting from your application.",
      );
      response.headers.set("retry-after", "60");
      break;
    case "method-not-allowed":
      response = errorPage(request, status, "Method not allowed", "This address takes only GET and POST.");
      response.headers.set("allow", "GET, POST");
      break;
  }
  return response;
}
