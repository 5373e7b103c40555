/**
 * The dashboard's stylesheet (inline, nonce'd). Colours meet WCAG AA contrast on
 * their backgrounds; every focusable element shows a visible focus ring. Down to
 * 360 px wide nothing widens the page (overflow-x: clip, not hidden: hidden would make
 * body a scroll box and the sticky header would scroll away): tables scroll inside their card, long words
 * wrap, charts follow their card's width.
 */
export const STYLES = `
:root {
  --text: #1b1f24; --muted: #4f5963; --line: #d0d7de; --bg: #f4f6f8; --card: #fff;
  --blue: #0b5cad; --green: #116329; --green-bg: #dafbe1; --amber: #6b4a00; --amber-bg: #fff4d6;
  --red: #a4161a; --red-bg: #ffe4e4; --focus: #1f6feb;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
html, body { margin: 0; overflow-x: clip; }
body { overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
h1, h2, h3 { line-height: 1.2; margin: 0 0 0.5rem; }
h1 { font-size: 1.35rem; }
h2 { font-size: 1.1rem; }
a { color: var(--blue); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
[tabindex="-1"]:focus { outline: none; }
[hidden] { display: none !important; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: 0.5rem 1rem; }
.skip:focus { left: 1rem; z-index: 10; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

html { scroll-padding-top: calc(var(--header-h, 0px) + 0.5rem); }
header.top { position: sticky; top: 0; z-index: 6; display: flex; align-items: center; gap: 0.5rem 1.5rem; flex-wrap: wrap; padding: 0.5rem 1.5rem; background: #1b1f24; color: #fff; }
header.top > div { display: flex; align-items: baseline; flex-wrap: wrap; gap: 0 0.75rem; }
header.top h1 { margin: 0; }
header.top p { margin: 0; color: #d0d7de; }
header.top .session { margin-left: auto; display: flex; align-items: center; gap: 0.75rem; }
header.top nav a { color: #fff; margin-right: 0.9rem; }
.mode { margin: 0; padding: 0.35rem 0.8rem; border-radius: 999px; font-weight: 700; }
header.top .mode { color: var(--text); }
.mode-route, .mode-retired { background: var(--green-bg); color: var(--green); }
.mode-shadow { background: var(--amber-bg); color: var(--amber); }
.mode-kill-switch { background: var(--red); color: #fff; }
.routability-routable { color: var(--green); }
.routability-partial { color: var(--amber); }
.routability-unroutable { color: var(--red); font-weight: 600; }
.readiness-ready { color: var(--green); }
.readiness-no-evidence { color: var(--muted); }
.readiness-not-ready { color: var(--red); font-weight: 600; }
header.top .mode-kill-switch { color: #fff; }

main { max-width: 1400px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
.status { position: sticky; top: var(--header-h, 0px); z-index: 5; box-shadow: 0 2px 6px rgb(0 0 0 / 15%); margin: 0 0 1rem; padding: 0.6rem 1rem; border-radius: 6px; background: #ddf4ff; border: 1px solid #80ccff; font-weight: 600; }
.status:empty { padding: 0; border: 0; margin: 0; box-shadow: none; }
.status.error { background: var(--red-bg); border-color: var(--red); color: var(--red); }
.grid { display: grid; gap: 1rem; margin-bottom: 1rem; }
.grid-3 { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.grid-2 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
@media (max-width: 900px) { .grid-3, .grid-2 { grid-template-columns: 1fr; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.grid > .card { margin-bottom: 0; }
.big { font-size: 2rem; font-weight: 700; margin: 0; }
.muted, .hint { color: var(--muted); margin: 0.25rem 0 0.5rem; }
.error { color: var(--red); font-weight: 600; }
p.error { margin: 0.5rem 0; }
progress { width: 100%; height: 1.1rem; accent-color: var(--green); }

button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--blue); background: var(--blue); color: #fff; padding: 0.35rem 0.9rem; }
button.secondary { background: #fff; color: var(--blue); }
header.top button.secondary { border-color: #fff; }
input, select { font: inherit; color: var(--text); padding: 0.3rem 0.5rem; border: 1px solid #8c959f; border-radius: 6px; background: #fff; }
label { font-weight: 600; display: block; margin: 0.6rem 0 0.2rem; }
input[type="number"] { width: 8rem; }
input.wide { width: 100%; }

.kill { border: 2px solid var(--red); }
.kill h2 { color: var(--red); }
button[role="switch"] { display: inline-flex; align-items: center; gap: 0.75rem; background: #fff; color: var(--text); border: 2px solid var(--red); padding: 0.5rem 1rem; font-weight: 700; font-size: 1.05rem; }
.track { width: 2.8rem; height: 1.5rem; border-radius: 999px; background: #8c959f; position: relative; flex: none; }
.track::after { content: ""; position: absolute; top: 0.2rem; left: 0.2rem; width: 1.1rem; height: 1.1rem; border-radius: 50%; background: #fff; }
button[aria-checked="true"] { background: var(--red); color: #fff; }
button[aria-checked="true"] .track { background: #fff; }
button[aria-checked="true"] .track::after { left: 1.5rem; background: var(--red); }

table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { background: #eef1f4; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.totals { width: auto; min-width: 16rem; }
table.totals th { font-weight: 500; }
.scroll { max-height: 70vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
tr.pending { background: var(--amber-bg); }
.state-control { display: flex; gap: 0.4rem; }
select.state-migrated { border-color: var(--green); color: var(--green); font-weight: 600; }
select.state-rollout { border-color: var(--amber); color: var(--amber); font-weight: 600; }
.search { display: flex; gap: 1rem; align-items: center; margin-bottom: 0.6rem; }
.search label { margin: 0; }
.search input { width: 22rem; max-width: 100%; }
.scroll { max-width: 100%; }
.scroll table { overflow-wrap: normal; }
.scroll th, .scroll td { white-space: nowrap; }
.scroll td.change { white-space: normal; min-width: 16rem; }
td.when { white-space: nowrap; }
.range { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; border: 0; padding: 0; margin: 0 0 1rem; }
.range legend { float: left; font-weight: 600; margin-right: 0.6rem; padding: 0; }
.range label { margin: 0; font-weight: 500; }
.range input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.range span { display: inline-block; padding: 0.3rem 0.9rem; border: 1px solid var(--blue); border-radius: 999px; background: #fff; color: var(--blue); cursor: pointer; }
.range input:checked + span { background: var(--blue); color: #fff; }
.range input:focus-visible + span { outline: 3px solid var(--focus); outline-offset: 2px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1rem; }
figure.chart { margin: 0; min-width: 0; }
figure.chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.chart-canvas { width: 100%; min-width: 0; overflow: hidden; }
.uplot .u-legend { font-size: 0.85rem; }
.connection h2 { font-size: 1.3rem; }
.connection h3 { font-size: 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; min-width: 0; }
ul.flags { margin: 0.5rem 0 0; padding-left: 1.1rem; color: var(--red); }
@media (max-width: 600px) {
  header.top { padding: 0.4rem 0.6rem; gap: 0.3rem 0.6rem; }
  header.top h1 { font-size: 1.05rem; margin: 0; }
  header.top > div > p { display: none; }
  header.top .mode { padding: 0.15rem 0.6rem; font-size: 0.85rem; }
  header.top .session { margin-left: 0; flex-wrap: wrap; gap: 0.2rem 0.5rem; font-size: 0.85rem; }
  header.top .session button { padding: 0.1rem 0.5rem; }
  header.top nav a { margin-right: 0.1rem; }
  /* The route table as one card per route: the State select and Apply always on screen. */
  #routes-card .scroll { overflow: visible; max-height: none; border: 0; }
  #routes-card table, #routes-card tbody, #routes-card tr, #routes-card tbody th, #routes-card td { display: block; }
  #routes-card thead { display: none; }
  #routes-card tr { border: 1px solid var(--line); border-radius: 8px; padding: 0.5rem 0.75rem; margin-bottom: 0.6rem; }
  #routes-card tbody th { border: 0; padding: 0 0 0.3rem; font-size: 1.05rem; white-space: normal; }
  #routes-card td { display: grid; grid-template-columns: 6.5rem minmax(0, 1fr); gap: 0.5rem; align-items: center; border: 0; padding: 0.15rem 0; white-space: normal; overflow-wrap: anywhere; text-align: left; }
  #routes-card td::before { content: attr(data-label); color: var(--muted); font-weight: 600; font-size: 0.85rem; }
  #routes-card .state-control { flex-wrap: wrap; }
  main { padding: 0.75rem 0.5rem 2rem; }
  .card { padding: 0.75rem; }
  .search { flex-wrap: wrap; gap: 0.4rem; }
  .search input { width: 100%; }
  .big { font-size: 1.6rem; }
  table.totals { min-width: 0; width: 100%; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 0.4rem; }
  button[role="switch"] { font-size: 1rem; }
}
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; background: #eef1f4; color: var(--muted); font-size: 0.85rem; }
#flagged-list { margin: 0; padding-left: 1.1rem; }
#flagged-list > li { margin-bottom: 0.4rem; }
#flagged-list ul { margin: 0.15rem 0 0; padding-left: 1.1rem; }
td.change { color: var(--muted); font-size: 0.9rem; }
.autopilot h3 { font-size: 1rem; }
.autopilot > div { min-width: 0; }
.autopilot .scroll { max-height: 28rem; }
.autopilot td.why { white-space: normal; min-width: 14rem; color: var(--muted); font-size: 0.9rem; }
ol.timeline { margin: 0; padding-left: 1.4rem; max-height: 28rem; overflow: auto; }
ol.timeline > li { margin-bottom: 0.5rem; }
ol.timeline .numbers { display: block; color: var(--muted); font-size: 0.9rem; }
.status-promoted { color: var(--green); font-weight: 600; }
.status-rolled-back, .status-halted, .status-aborted { color: var(--red); font-weight: 600; }
.status-soaking, .status-paused { color: var(--amber); font-weight: 600; }
`;
