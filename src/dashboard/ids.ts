/**
 * The ids of the page's server-rendered elements, shared by the page (page.tsx)
 * and its script (script.ts, which receives them as JSON), so the two cannot drift.
 */
export const IDS = {
  main: "main",
  signIn: "sign-in",
  signInForm: "sign-in-form",
  token: "token",
  signInError: "sign-in-error",
  dashboard: "dashboard",
  sessionBar: "session-bar",
  updated: "updated",
  refresh: "refresh",
  signOut: "sign-out",
  modeBanner: "mode-banner",
  status: "status",
  progress: "progress",
  progressText: "progress-text",
  progressDetail: "progress-detail",
  progressError: "progress-error",
  share: "share",
  shareText: "share-text",
  /** + new, auth0, fallback, unidentified, errors: the cells of the totals table. */
  totalPrefix: "total-",
  statsError: "stats-error",
  killSwitch: "kill-switch",
  killState: "kill-state",
  modeText: "mode-text",
  rolloutForm: "rollout-form",
  percentage: "percentage",
  include: "include",
  exclude: "exclude",
  rolloutError: "rollout-error",
  flaggedList: "flagged-list",
  flaggedText: "flagged-text",
  search: "search",
  searchCount: "search-count",
  routesBody: "routes-body",
  routesError: "routes-error",
  trafficBody: "traffic-body",
  trafficText: "traffic-text",
  auditBody: "audit-body",
  auditError: "audit-error",
} as const;

export type Ids = typeof IDS;
