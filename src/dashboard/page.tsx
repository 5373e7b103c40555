/**
 * The dashboard's server-rendered skeleton: landmarks, headings, labels, table
 * headers and the sign-in form. It holds no data; the inline script (script.ts)
 * fills it in from the management API once the operator has signed in.
 */
import type { FC } from "hono/jsx";
import { IDS } from "./ids";
import { dashboardClient, type ClientConfig } from "./script";
import { STYLES } from "./styles";

/** How often the signed-in page re-reads counters, mode and audit log. */
export const REFRESH_MS = 15_000;

/**
 * The page's one script: dashboardClient's source applied to its configuration.
 * The JSON is made safe inside <script> by escaping "<"; the function's own source
 * must not contain "<script", "</script" or "<!--" (test/dashboard.test.ts).
 */
function inlineScript(cfg: ClientConfig): string {
  const source = dashboardClient.toString();
  if (/<script|<\/script|<!--/i.test(source)) throw new Error("dashboard script: its source contains <script or <!--");
  return `"use strict";\n(${source})(${JSON.stringify(cfg).replace(/</g, "\\u003c")});\n`;
}

const TOTALS = [
  ["new", "Sent to the new provider"],
  ["fallback", "of which bounced back"],
  ["auth0", "Straight to Auth0"],
  ["unidentified", "Unidentified"],
  ["errors", "Errors"],
] as const;

const TableHead: FC<{ columns: Array<[string, boolean?]> }> = ({ columns }) => (
  <thead>
    <tr>
      {columns.map(([label, numeric]) => (
        <th scope="col" class={numeric === true ? "num" : undefined}>
          {label}
        </th>
      ))}
    </tr>
  </thead>
);

const Card: FC<{ id: string; title: string; class?: string; children?: unknown }> = (props) => (
  <section class={`card ${props.class ?? ""}`} aria-labelledby={`${props.id}-heading`} id={props.id}>
    <h2 id={`${props.id}-heading`}>{props.title}</h2>
    {props.children}
  </section>
);

const ErrorText: FC<{ id: string }> = ({ id }) => <p id={id} class="error" hidden></p>;

const SignIn: FC = () => (
  <section id={IDS.signIn} class="card sign-in" aria-labelledby="sign-in-heading">
    <h2 id="sign-in-heading">Sign in</h2>
    <p class="hint">
      Use the management API's credential: the <code>ADMIN_TOKEN</code>, or a JWT with <code>routes:read</code> (
      <code>routes:write</code> to change anything). It stays in this browser tab (session storage) and is sent as{" "}
      <code>Authorization: Bearer</code>.
    </p>
    <form id={IDS.signInForm} method="post">
      <label for={IDS.token}>Admin token or JWT</label>
      <input id={IDS.token} name="token" type="password" autocomplete="off" spellcheck={false} required size={48} />
      <p id={IDS.signInError} class="error" role="alert" hidden></p>
      <p>
        <button type="submit">Sign in</button>
      </p>
    </form>
  </section>
);

const Dashboard: FC = () => (
  <div id={IDS.dashboard} hidden>
    <p id={IDS.status} class="status" role="status" aria-live="polite"></p>

    <div class="grid grid-3">
      <Card id="progress-card" title="Migration progress">
        <p class="big" id={IDS.progressText}>
          –
        </p>
        <p class="muted" id={IDS.progressDetail}></p>
        <progress id={IDS.progress} max={1} value={0} aria-label="Connections migrated"></progress>
        <ErrorText id={IDS.progressError} />
      </Card>
      <Card id="share-card" title="New provider's share, last 24 h">
        <p class="big" id={IDS.share}>
          –
        </p>
        <p class="muted" id={IDS.shareText}></p>
        <table class="totals">
          <caption class="sr-only">Logins in the last 24 hours by destination</caption>
          <tbody>
            {TOTALS.map(([key, label]) => (
              <tr>
                <th scope="row">{label}</th>
                <td class="num" id={`${IDS.totalPrefix}${key}`}>
                  –
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <ErrorText id={IDS.statsError} />
      </Card>
      <Card id="kill-card" title="Kill switch" class="kill">
        <p id={IDS.modeText}></p>
        <button type="button" role="switch" aria-checked="false" id={IDS.killSwitch} aria-describedby={IDS.modeText}>
          <span class="track" aria-hidden="true"></span>
          <span>Kill switch</span> <span id={IDS.killState}>OFF</span>
        </button>
        <p class="hint">Asks for confirmation. Reaches every location within about 60 s.</p>
      </Card>
    </div>

    <div class="grid grid-2">
      <Card id="rollout-card" title="Rollout flag">
        <p class="hint">
          For routes in state <strong>rollout</strong>: an organization goes to the new provider when its stable bucket
          is below the percentage. Include and exclude take organization ids or connection names; exclude wins.
        </p>
        <form id={IDS.rolloutForm}>
          <label for={IDS.percentage}>Percentage of organizations (0–100)</label>
          <input id={IDS.percentage} name="percentage" type="number" min={0} max={100} step="any" required />
          <label for={IDS.include}>Always include (comma-separated)</label>
          <input
            id={IDS.include}
            name="include"
            type="text"
            class="wide"
            autocomplete="off"
            placeholder="org_acme, acme-saml"
          />
          <label for={IDS.exclude}>Always exclude (comma-separated)</label>
          <input id={IDS.exclude} name="exclude" type="text" class="wide" autocomplete="off" />
          <ErrorText id={IDS.rolloutError} />
          <p>
            <button type="submit">Save rollout</button>
          </p>
        </form>
      </Card>
      <Card id="flagged-card" title="Flagged connections">
        <p id={IDS.flaggedText} class="muted"></p>
        <ul id={IDS.flaggedList}></ul>
      </Card>
    </div>

    <Card id="routes-card" title="Routes">
      <div class="search">
        <label for={IDS.search}>Filter by connection or organization</label>
        <input id={IDS.search} type="search" autocomplete="off" />
        <span id={IDS.searchCount} class="muted" aria-live="polite"></span>
      </div>
      <ErrorText id={IDS.routesError} />
      <div class="scroll">
        <table>
          <caption class="sr-only">Route table: one row per connection, with its state control</caption>
          <TableHead
            columns={[["Connection"], ["Organization"], ["Protocol"], ["State"], ["Version", true], ["Updated"]]}
          />
          <tbody id={IDS.routesBody}></tbody>
        </table>
      </div>
    </Card>

    <Card id="traffic-card" title="Traffic per connection, last 24 h">
      <p id={IDS.trafficText} class="muted"></p>
      <table>
        <TableHead
          columns={[
            ["Connection"],
            ["State"],
            ["Served by new", true],
            ["Logins", true],
            ["New provider", true],
            ["Auth0", true],
            ["Fallback", true],
            ["Errors", true],
          ]}
        />
        <tbody id={IDS.trafficBody}></tbody>
      </table>
    </Card>

    <Card id="audit-card" title="Audit log (latest 50)">
      <ErrorText id={IDS.auditError} />
      <table>
        <TableHead columns={[["Time"], ["Actor"], ["Action"], ["Subject"], ["Change"]]} />
        <tbody id={IDS.auditBody}></tbody>
      </table>
    </Card>
  </div>
);

const Page: FC<{ nonce: string; api: string }> = ({ nonce, api }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>Migration dashboard · callback-router</title>
      <link rel="icon" href="data:," />
      <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
    </head>
    <body>
      <a class="skip" href={`#${IDS.main}`}>
        Skip to content
      </a>
      <header class="top">
        <div>
          <h1>callback-router</h1>
          <p>SSO migration dashboard</p>
        </div>
        <p id={IDS.modeBanner} class="mode" hidden></p>
        <nav aria-label="Sections" id={IDS.sessionBar} class="session" hidden>
          <a href="#routes-card">Routes</a>
          <a href="#traffic-card">Traffic</a>
          <a href="#audit-card">Audit log</a>
          <span id={IDS.updated}></span>
          <button type="button" class="secondary" id={IDS.refresh}>
            Refresh
          </button>
          <button type="button" class="secondary" id={IDS.signOut}>
            Sign out
          </button>
        </nav>
      </header>
      <main id={IDS.main} tabindex={-1}>
        <noscript>
          <p class="error">
            This dashboard needs JavaScript. The management API and <code>npm run routes</code> work without it.
          </p>
        </noscript>
        <SignIn />
        <Dashboard />
      </main>
      <script
        nonce={nonce}
        dangerouslySetInnerHTML={{ __html: inlineScript({ api, ids: IDS, refreshMs: REFRESH_MS }) }}
      />
    </body>
  </html>
);

export async function renderDashboard(nonce: string, api: string): Promise<string> {
  return `<!doctype html>\n${await (<Page nonce={nonce} api={api} />).toString()}`;
}
