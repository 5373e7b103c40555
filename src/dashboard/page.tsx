/**
 * The dashboard's server-rendered skeleton: landmarks, headings, labels, table
 * headers and the sign-in form. It holds no data; the bundled client (client/,
 * built into generated/client.ts) fills it in from the management API once the
 * operator has signed in. The script is inline and allowed by its SHA-256 in the
 * CSP; its configuration is a JSON data block, so the script never varies.
 */
import type { FC } from "hono/jsx";
import { CLIENT_CSS, CLIENT_JS } from "./generated/client";
import { IDS } from "./ids";
import { STYLES } from "./styles";

/** How often the signed-in page re-reads counters, mode and audit log. */
export const REFRESH_MS = 15_000;

/** The client's configuration as JSON that cannot end its <script> element ("<" escaped). */
function configJson(api: string): string {
  return JSON.stringify({ api, refreshMs: REFRESH_MS }).replace(/</g, "\\u003c");
}

const TOTALS = [
  ["new", "Sent to the new provider"],
  ["fallback", "of which bounced back"],
  ["auth0", "Straight to Auth0"],
  ["affinity", "of which started by Auth0 (affinity)"],
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

const Card: FC<{ id: string; title: string; class?: string; range?: string; children?: unknown }> = (props) => (
  <section class={`card ${props.class ?? ""}`} aria-labelledby={`${props.id}-heading`} id={props.id}>
    <h2 id={`${props.id}-heading`}>
      {props.title}
      {props.range === undefined ? null : (
        <>
          , <span id={props.range}>last 1 h</span>
        </>
      )}
    </h2>
    {props.children}
  </section>
);

/** The time-range control: a radio group, so arrow keys move between the choices. */
const RangeControl: FC = () => (
  <fieldset id={IDS.range} class="range">
    <legend>Time range</legend>
    {[
      ["15m", "15 min"],
      ["1h", "1 h"],
      ["24h", "24 h"],
      ["7d", "7 d"],
    ].map(([value, label]) => (
      <label>
        <input type="radio" name="range" value={value} />
        <span>{label}</span>
      </label>
    ))}
  </fieldset>
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
      <input id={IDS.token} name="token" type="password" autocomplete="off" spellcheck={false} required class="wide" />
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
    <RangeControl />
    <ConnectionView />
    <div id={IDS.overview}>
      <div class="grid grid-3">
        <Card id="progress-card" title="Migration progress">
          <p class="big" id={IDS.progressText}>
            –
          </p>
          <p class="muted" id={IDS.progressDetail}></p>
          <progress id={IDS.progress} max={1} value={0} aria-label="Connections migrated"></progress>
          <ErrorText id={IDS.progressError} />
        </Card>
        <Card id="share-card" title="Logins served by the new provider" range={IDS.shareRange}>
          <p class="big" id={IDS.share}>
            –
          </p>
          <p class="muted" id={IDS.shareText}></p>
          <table class="totals">
            <caption class="sr-only">Logins in the chosen range by destination</caption>
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
          <p id={IDS.affinityText}></p>
        </Card>
      </div>

      <Card id="autopilot-card" title="Autopilot">
        <p id={IDS.autopilotText}></p>
        <p id={IDS.autopilotTotals} class="muted"></p>
        <ErrorText id={IDS.autopilotError} />
        <div class="grid grid-2 autopilot">
          <div>
            <h3>Connections</h3>
            <div class="scroll">
              <table>
                <caption class="sr-only">
                  The plan's connections: wave, status, and the numbers the last reading or decision was made on
                </caption>
                <TableHead
                  columns={[
                    ["Connection"],
                    ["Wave", true],
                    ["Status"],
                    ["Logins", true],
                    ["Fallback", true],
                    ["Errors", true],
                    ["Provider outcome"],
                    ["Why"],
                  ]}
                />
                <tbody id={IDS.autopilotBody}></tbody>
              </table>
            </div>
          </div>
          <div>
            <h3>Timeline</h3>
            <ol id={IDS.autopilotTimeline} class="timeline" reversed></ol>
          </div>
        </div>
      </Card>

      <Card id="charts-card" title="Over time" range={IDS.trafficRange}>
        <p class="hint">Times in your browser's zone. A bounced login counts once, as served by Auth0.</p>
        <div id={IDS.charts} class="charts"></div>
      </Card>

      <div class="grid grid-2">
        <Card id="rollout-card" title="Rollout flag">
          <p class="hint">
            For routes in state <strong>rollout</strong>: an organization goes to the new provider when its stable
            bucket is below the percentage. Include and exclude take organization ids or connection names; exclude wins.
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
              columns={[
                ["Connection"],
                ["Organization"],
                ["Protocol"],
                ["Routability"],
                ["State"],
                ["Version", true],
                ["Updated"],
              ]}
            />
            <tbody id={IDS.routesBody}></tbody>
          </table>
        </div>
      </Card>

      <Card id="traffic-card" title="Traffic per connection">
        <p id={IDS.trafficText} class="muted"></p>
        <div class="scroll">
          <table>
            <caption class="sr-only">Logins per connection in the chosen range; each name opens its view</caption>
            <TableHead
              columns={[
                ["Connection"],
                ["State"],
                ["Served by new", true],
                ["Logins", true],
                ["Sent to new", true],
                ["Bounced", true],
                ["Auth0", true],
                ["Errors", true],
                ["Last callback"],
              ]}
            />
            <tbody id={IDS.trafficBody}></tbody>
          </table>
        </div>
      </Card>

      <Card id="audit-card" title="Audit log (latest 50)">
        <ErrorText id={IDS.auditError} />
        <div class="scroll">
          <table>
            <TableHead columns={AUDIT_COLUMNS} />
            <tbody id={IDS.auditBody}></tbody>
          </table>
        </div>
      </Card>
    </div>
  </div>
);

const AUDIT_COLUMNS: Array<[string]> = [["Time"], ["Actor"], ["Action"], ["Subject"], ["Change"]];

/** One connection: filled in by client/connection.ts when the location is #connection/{name}. */
const ConnectionView: FC = () => (
  <section id={IDS.connectionView} class="connection" aria-labelledby={IDS.connectionHeading} hidden>
    <p>
      <a href="#overview">← All connections</a>
    </p>
    <h2 id={IDS.connectionHeading} tabindex={-1}>
      Connection <span id={IDS.connectionName}></span>
    </h2>
    <ErrorText id={IDS.connectionError} />
    <div class="grid grid-2">
      <div class="card">
        <h3>Route</h3>
        <dl id={IDS.connectionFacts} class="facts"></dl>
      </div>
      <div class="card">
        <h3>
          Logins, <span id={IDS.connectionRange}>last 1 h</span>
        </h3>
        <table class="totals">
          <tbody id={IDS.connectionCounts}></tbody>
        </table>
        <ul id={IDS.connectionFlags} class="flags"></ul>
      </div>
    </div>
    <div class="card">
      <h3>Over time</h3>
      <div id={IDS.connectionChart} class="charts"></div>
    </div>
    <div class="card">
      <h3>Audit entries</h3>
      <div class="scroll">
        <table>
          <TableHead columns={AUDIT_COLUMNS} />
          <tbody id={IDS.connectionAudit}></tbody>
        </table>
      </div>
    </div>
  </section>
);

const Page: FC<{ nonce: string; api: string }> = ({ nonce, api }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>Migration dashboard · callback-router</title>
      <link rel="icon" href="data:," />
      <style nonce={nonce} dangerouslySetInnerHTML={{ __html: `${STYLES}\n${CLIENT_CSS}` }} />
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
          <a href="#overview">Overview</a>
          <a href="#autopilot-card">Autopilot</a>
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
      <script type="application/json" id={IDS.config} dangerouslySetInnerHTML={{ __html: configJson(api) }} />
      <script dangerouslySetInnerHTML={{ __html: CLIENT_JS }} />
    </body>
  </html>
);

export async function renderDashboard(nonce: string, api: string): Promise<string> {
  return `<!doctype html>\n${await (<Page nonce={nonce} api={api} />).toString()}`;
}
