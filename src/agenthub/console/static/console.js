// The agenthub console: a small static app with no build step. Data comes from /api (JSON), live
// updates from /api/stream (Server-Sent Events). Everything is built with DOM calls and textContent, so
// nothing the server sends is ever parsed as HTML.

const $ = (selector) => document.querySelector(selector);
const FINAL = new Set(["success", "failed", "cancelled", "expired"]);
const STATUSES = ["pending", "leased", "running", "success", "failed", "cancelled", "expired"];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

class LoggedOut extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    ...options,
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/login") {
    showLogin();
    throw new LoggedOut();
  }
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

// -- formatting ----------------------------------------------------------------------------------------

function pad(n) { return String(n).padStart(2, "0"); }

function when(text) {
  if (!text) return "–";
  const d = new Date(text);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function ago(text) {
  if (!text) return "never";
  const seconds = Math.round((Date.now() - new Date(text).getTime()) / 1000);
  if (seconds < 0) return `in ${-seconds}s`;
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function badge(status) { return h("span", { class: `badge s-${status}` }, status); }
function json(value) { return value === null || value === undefined ? "–" : JSON.stringify(value, null, 2); }

function select(id, label, options, value) {
  return h("label", {}, `${label} `, h("select", { id },
    h("option", { value: "" }, "all"),
    options.map((o) => h("option", { value: o, selected: o === value }, o))));
}

// -- refresh scheduling: at most one fetch in flight per view, coalescing bursts of events --------------

// Bumped when the view changes or the operator logs out: a view that is gone fetches nothing more.
let generation = 0;

function refresher(run) {
  const born = generation;
  let timer = null, running = false, again = false;
  const go = async () => {
    timer = null;
    if (born !== generation) return;
    if (running) { again = true; return; }
    running = true;
    try { await run(); } catch (error) { if (!(error instanceof LoggedOut)) console.warn(error.message); }
    running = false;
    if (again) { again = false; schedule(); }
  };
  const schedule = (delay = 150) => { if (timer === null) timer = setTimeout(go, delay); };
  return { now: go, soon: schedule };
}

// Re-render only what changed: a page that is redrawn on every tick would lose the operator's focus,
// selection and scroll position (and a click in flight).
function changes() {
  let last = null;
  return (data) => {
    const text = JSON.stringify(data);
    if (text === last) return false;
    last = text;
    return true;
  };
}

// -- views -----------------------------------------------------------------------------------------------

let protocols = [];
let view = null;

function fleetView(params) {
  const body = h("tbody");
  const state = { protocol: params.get("protocol") || "", state: params.get("state") || "" };
  const changed = changes();
  const refresh = refresher(async () => {
    const query = new URLSearchParams(Object.entries(state).filter(([, v]) => v));
    const { nodes } = await api(`/api/fleet?${query}`);
    if (!changed(nodes)) return;
    body.replaceChildren(...(nodes.length ? nodes.map(nodeRow)
      : [h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No agents match."))]));
  });
  const onFilter = (key) => (event) => { state[key] = event.target.value; refresh.now(); };
  const root = h("div", {},
    h("h2", {}, "Fleet"),
    h("div", { class: "filters" },
      select("fleet-protocol", "Protocol", protocols.map((p) => p.name), state.protocol),
      select("fleet-state", "State", ["online", "offline", "disabled"], state.state)),
    h("table", { id: "fleet-table" },
      h("thead", {}, h("tr", {}, ["Protocol", "Agent", "Owner", "Version", "State", "Last seen", "Load", ""]
        .map((t) => h("th", {}, t)))),
      body));
  root.querySelector("#fleet-protocol").addEventListener("change", onFilter("protocol"));
  root.querySelector("#fleet-state").addEventListener("change", onFilter("state"));
  return { root, refresh, onJob: () => refresh.soon(), onNode: () => refresh.soon(), onTick: () => refresh.soon() };
}

function nodeHref(n) { return `#/nodes/${encodeURIComponent(n.kind)}/${encodeURIComponent(n.node_id)}`; }

function nodeRow(n) {
  return h("tr", { dataset: { node: `${n.kind}/${n.node_id}` } },
    h("td", {}, n.protocol),
    h("td", {}, h("a", { href: nodeHref(n) }, n.node_id)),
    h("td", {}, n.owner_id ?? "–"),
    h("td", {}, n.version ?? "–"),
    h("td", { class: "state" }, badge(n.online ? "online" : "offline"), n.disabled ? [" ", badge("disabled")] : null),
    h("td", { title: when(n.last_seen_at) }, ago(n.last_seen_at)),
    h("td", { class: "load" }, n.load ?? "–"),
    h("td", {}, h("a", { href: `#/jobs?node=${encodeURIComponent(n.node_id)}` }, "jobs")));
}

function jobRow(j) {
  return h("tr", { dataset: { job: j.id } },
    h("td", {}, h("a", { href: `#/jobs/${j.id}` }, `#${j.id}`)),
    h("td", {}, j.protocol),
    h("td", {}, j.kind),
    h("td", {}, j.type),
    h("td", { class: "status" }, badge(j.status)),
    h("td", {}, `${j.attempts}/${j.max_attempts}`),
    h("td", {}, j.holder ?? "–"),
    h("td", { title: when(j.created_at) }, when(j.created_at)),
    h("td", { title: when(j.updated_at) }, ago(j.updated_at)));
}

function jobsTable(id, body) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, ["Job", "Protocol", "Kind", "Type", "Status", "Attempts", "Holder", "Created", "Updated"]
      .map((t) => h("th", {}, t)))),
    body);
}

function jobsView(params) {
  const body = h("tbody");
  const state = {
    protocol: params.get("protocol") || "", status: params.get("status") || "",
    node: params.get("node") || "", type: params.get("type") || "", q: params.get("q") || "",
  };
  const pages = [null];  // the `before` cursor of each page shown so far
  const changed = changes();
  const more = h("button", { id: "jobs-more", class: "ghost", type: "button" }, "Older jobs");
  const back = h("button", { id: "jobs-newer", class: "ghost", type: "button" }, "Newer jobs");
  const position = h("span", { class: "muted", id: "jobs-page" });
  let next = null;
  const refresh = refresher(async () => {
    const query = new URLSearchParams(Object.entries(state).filter(([, v]) => v));
    const before = pages[pages.length - 1];
    if (before) query.set("before", before);
    query.set("limit", "50");
    const page = await api(`/api/jobs?${query}`);
    if (!changed([query.toString(), page])) return;
    next = page.next_before;
    body.replaceChildren(...(page.jobs.length ? page.jobs.map(jobRow)
      : [h("tr", {}, h("td", { colspan: 9, class: "empty" }, "No jobs match."))]));
    more.disabled = next === null;
    back.disabled = pages.length === 1;
    position.textContent = `page ${pages.length}`;
  });
  const restart = () => { pages.length = 1; refresh.now(); };
  more.addEventListener("click", () => { if (next !== null) { pages.push(next); refresh.now(); } });
  back.addEventListener("click", () => { if (pages.length > 1) { pages.pop(); refresh.now(); } });
  const search = h("input", { id: "jobs-q", type: "search", placeholder: "job id, external id or holder", value: state.q, size: 32 });
  const node = h("input", { id: "jobs-node", placeholder: "holder", value: state.node, size: 12 });
  const type = h("input", { id: "jobs-type", placeholder: "type", value: state.type, size: 10 });
  const root = h("div", {},
    h("h2", {}, "Jobs"),
    h("form", { class: "filters", id: "jobs-filters", onsubmit: (e) => { e.preventDefault(); state.q = search.value.trim(); state.node = node.value.trim(); state.type = type.value.trim(); restart(); } },
      select("jobs-protocol", "Protocol", protocols.map((p) => p.name), state.protocol),
      select("jobs-status", "Status", STATUSES, state.status),
      type, node, search, h("button", { type: "submit" }, "Search")),
    jobsTable("jobs-table", body),
    h("div", { class: "more" }, back, " ", more, " ", position));
  root.querySelector("#jobs-protocol").addEventListener("change", (e) => { state.protocol = e.target.value; restart(); });
  root.querySelector("#jobs-status").addEventListener("change", (e) => { state.status = e.target.value; restart(); });
  return { root, refresh, onJob: () => refresh.soon(), onNode: () => {}, onTick: () => {} };
}

function section(title, id, ...content) {
  return h("section", { class: "card", id }, h("h3", {}, title), ...content);
}

function jobView(jobId) {
  const root = h("div", { id: "job-view" });
  const changed = changes();
  let armed = false;
  const refresh = refresher(async () => {
    const page = await api(`/api/jobs/${jobId}`);
    if (!changed([armed, page])) return;
    const j = page.job;
    const cancel = h("button", { id: "cancel-btn", class: "danger", type: "button", disabled: FINAL.has(j.status) },
      armed ? "Confirm cancel" : "Cancel job");
    cancel.addEventListener("click", async () => {
      if (!armed) { armed = true; cancel.textContent = "Confirm cancel"; return; }
      armed = false;
      await act(`/api/jobs/${jobId}/cancel`);
      refresh.now();
    });
    const waiting = page.why.some((r) => r.code === "retry_backoff" || r.code === "scheduled");
    const retry = h("button", { id: "retry-btn", type: "button", disabled: !(j.status === "failed" || j.status === "expired" || waiting) },
      "Retry now");
    retry.addEventListener("click", async () => { await act(`/api/jobs/${jobId}/retry`); refresh.now(); });
    root.replaceChildren(...[
      h("h2", {}, `Job #${j.id} `, h("span", { id: "job-status" }, badge(j.status))),
      h("div", { class: "actions" }, cancel, retry, h("span", { id: "action-error", class: "error" })),
      j.status === "pending" ? section("Why is it pending?", "job-why-section",
        h("ul", { id: "job-why", class: "why" }, page.why.map((r) => h("li", { dataset: { code: r.code } }, r.text)))) : null,
      h("div", { class: "grid2" },
        section("Job", "job-details", h("dl", {},
          ...[["protocol", j.protocol], ["kind", j.kind], ["type", j.type], ["external id", j.external_id],
            ["attempts", `${j.attempts}/${j.max_attempts}`], ["holder", j.holder ?? (j.last_holder ? `none (last: ${j.last_holder})` : null)], ["target node", j.target_node],
            ["owner", j.owner_id], ["progress", j.progress === null ? null : `${j.progress}%`],
            ["message", j.message], ["error", j.error_code], ["scheduled", when(j.scheduled_at)],
            ["lease until", when(j.lease_until)], ["deadline", when(j.deadline)], ["created", when(j.created_at)],
            ["started", when(j.started_at)], ["finished", when(j.finished_at)]]
            .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]))),
        h("div", {},
          section("Payload", "job-payload-section", h("pre", { id: "job-payload" }, json(j.payload))),
          section("Result", "job-result-section", h("pre", { id: "job-result" }, json(j.result))))),
      section("Events", "job-events-section", h("table", { id: "job-events" },
        h("thead", {}, h("tr", {}, ["At", "Event", "Node", "Message", "Data"].map((t) => h("th", {}, t)))),
        h("tbody", {}, page.events.map((e) => h("tr", { dataset: { event: e.type } },
          h("td", {}, when(e.at)), h("td", {}, badge(e.type)), h("td", {}, e.node_id ?? "–"),
          h("td", {}, [e.message, e.error_code].filter(Boolean).join(" · ") || "–"),
          h("td", { class: "mono" }, e.data ? JSON.stringify(e.data) : "–")))))),
      section("Logs", "job-logs-section", page.logs.length
        ? h("table", { id: "job-logs" }, h("tbody", {}, page.logs.map((l) => h("tr", {},
          h("td", {}, when(l.at)), h("td", {}, l.level), h("td", {}, l.message)))))
        : h("p", { id: "job-logs", class: "muted" }, "No logs from the protocol for this job.")),
      section("Retry schedule", "job-retries-section", page.retries.length
        ? h("table", { id: "job-retries" }, h("tbody", {}, page.retries.map((r) => h("tr", {},
          h("td", {}, when(r.at)), h("td", {}, r.event), h("td", {}, r.attempts ?? "–"),
          h("td", {}, r.retry_at ? `again at ${when(r.retry_at)}` : "no retry"), h("td", {}, r.message ?? "")))))
        : h("p", { id: "job-retries", class: "muted" }, "No failed attempts.")),
    ].filter(Boolean));
  });
  // Ticks too: logs and protocol reasons change without a job event (Oas agents upload logs after reporting).
  return { root, refresh, onJob: (m) => { if (m.job_id === jobId) refresh.soon(50); }, onNode: () => {}, onTick: () => refresh.soon() };
}

function nodeView(kind, nodeId) {
  const root = h("div", { id: "node-view" });
  const changed = changes();
  const refresh = refresher(async () => {
    const n = await api(`/api/nodes/${encodeURIComponent(kind)}/${encodeURIComponent(nodeId)}`);
    if (!changed(n)) return;
    const toggle = h("button", { id: n.disabled ? "enable-btn" : "disable-btn", class: n.disabled ? "" : "danger", type: "button" },
      n.disabled ? "Enable agent" : "Disable agent");
    toggle.addEventListener("click", async () => {
      await act(`/api/nodes/${encodeURIComponent(kind)}/${encodeURIComponent(nodeId)}/${n.disabled ? "enable" : "disable"}`);
      refresh.now();
    });
    root.replaceChildren(
      h("h2", {}, `${n.protocol} · ${n.node_id} `, h("span", { id: "node-state" }, badge(n.online ? "online" : "offline"),
        n.disabled ? [" ", badge("disabled")] : null)),
      h("div", { class: "actions" }, toggle, h("span", { id: "action-error", class: "error" })),
      section("Agent", "node-details", h("dl", {},
        ...[["kind", n.kind], ["owner", n.owner_id], ["version", n.version], ["last seen", `${when(n.last_seen_at)} (${ago(n.last_seen_at)})`],
          ["first seen", when(n.created_at)], ["load", n.load],
          ["disabled", n.disabled ? `since ${when(n.disabled_at)} by ${n.disabled_by}` : "no"]]
          .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]))),
      h("h3", {}, "Recent jobs"),
      jobsTable("node-jobs", h("tbody", {}, n.jobs.length ? n.jobs.map(jobRow)
        : h("tr", {}, h("td", { colspan: 9, class: "empty" }, "No jobs held yet.")))));
  });
  return { root, refresh, onJob: (m) => { if (m.node_id === nodeId) refresh.soon(); }, onNode: () => refresh.soon(), onTick: () => refresh.soon() };
}

async function act(path) {
  const error = $("#action-error");
  if (error) error.textContent = "";
  try { await api(path, { method: "POST" }); }
  catch (e) { if (error && !(e instanceof LoggedOut)) error.textContent = e.message; }
}

// -- sparklines --------------------------------------------------------------------------------------------

function line(values, color) {
  const w = 120, hgt = 26, max = Math.max(1, ...values);
  const step = w / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 1 - (v / max) * (hgt - 2)).toFixed(1)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", hgt); svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  const poly = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  poly.setAttribute("points", points); poly.setAttribute("fill", "none");
  poly.setAttribute("stroke", color); poly.setAttribute("stroke-width", "1.5");
  svg.append(poly);
  return svg;
}

function drawSparks(stats) {
  const boxes = Object.entries(stats.protocols || {}).map(([name, s]) => h("div", { class: "spark", dataset: { protocol: name } },
    h("h3", {}, name),
    line(s.throughput, "#1f9d55"), h("span", { class: "throughput", title: "jobs finished over the line's span" },
      `${s.throughput.reduce((a, b) => a + b, 0)} done`),
    line(s.queue, "#c27c0e"), h("span", { class: "queue" }, `${s.queue.at(-1) ?? 0} queued`)));
  $("#sparklines").replaceChildren(...boxes);
}

// -- live ---------------------------------------------------------------------------------------------------

let stream = null;

function connect() {
  if (stream) return;
  stream = new EventSource("/api/stream");
  stream.addEventListener("open", () => { $("#live").textContent = "live"; $("#live").classList.add("on"); });
  stream.addEventListener("error", async () => {
    $("#live").textContent = "reconnecting"; $("#live").classList.remove("on");
    const me = await fetch("/api/me", { credentials: "same-origin" }).then((r) => r.json()).catch(() => null);
    if (me && !me.username) showLogin();
  });
  stream.addEventListener("job", (e) => view?.onJob(JSON.parse(e.data)));
  stream.addEventListener("node", (e) => view?.onNode(JSON.parse(e.data)));
  stream.addEventListener("stats", (e) => { drawSparks(JSON.parse(e.data)); view?.onTick(); });
  stream.addEventListener("logout", () => showLogin());
}

function disconnect() {
  if (stream) { stream.close(); stream = null; }
}

// -- routing and login --------------------------------------------------------------------------------------

function route() {
  generation += 1;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "jobs" && parts[1]) view = jobView(Number(parts[1]));
  else if (parts[0] === "jobs") view = jobsView(params);
  else if (parts[0] === "nodes" && parts[2]) view = nodeView(parts[1], parts[2]);
  else view = fleetView(params);
  for (const link of document.querySelectorAll(".top nav a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#/${parts[0] || "fleet"}`);
  }
  $("#view").replaceChildren(view.root);
  view.refresh.now();
}

function showLogin() {
  generation += 1;
  disconnect();
  view = null;
  $("#shell").hidden = true;
  $("#login").hidden = false;
  $("#username").focus();
}

async function showConsole(username) {
  $("#login").hidden = true;
  $("#shell").hidden = false;
  $("#whoami").textContent = username;
  protocols = (await api("/api/protocols")).protocols;
  connect();
  route();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#login-error").textContent = "";
  const response = await fetch("/api/login", {
    method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: $("#username").value, password: $("#password").value }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { $("#login-error").textContent = body.message || "login failed"; return; }
  $("#password").value = "";
  await showConsole(body.username);
});

$("#logout-btn").addEventListener("click", async () => {
  showLogin();  // first: nothing of the old session fetches after the cookie is gone
  await fetch("/api/logout", { method: "POST", credentials: "same-origin" });
});

window.addEventListener("hashchange", () => { if (!$("#shell").hidden) route(); });

const me = await fetch("/api/me", { credentials: "same-origin" }).then((r) => r.json());
if (me.username) await showConsole(me.username);
else showLogin();
