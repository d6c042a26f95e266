// inferplan's page: a form over the JSON API, no framework, nothing loaded from another host.
// Every number shown comes from an API response, which is the CLI's `--format json` output.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { plan: null, toml: "", chosen: 0 };

// ---------------------------------------------------------------- helpers

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (typeof x !== "number") return String(x);
  const d = digits === undefined ? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2) : digits;
  return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

async function api(path, body, contentType) {
  const init = body === undefined ? { method: "GET" } : {
    method: "POST",
    headers: { "content-type": contentType || "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  if (!res.ok) {
    const msg = json && json.error ? json.error : text || res.statusText;
    const where = json && (json.field || json.line) ?
      ` (${[json.field && "field " + json.field, json.line && "line " + json.line].filter(Boolean).join(", ")})` : "";
    throw new Error(`${res.status}: ${msg}${where}`);
  }
  return json !== null ? json : text;
}

async function download(path, body, contentType, filename) {
  const res = await fetch(path, { method: "POST", headers: { "content-type": contentType }, body });
  if (!res.ok) throw new Error(`${res.status}: ${await res.text()}`);
  const blob = await res.blob();
  const a = el("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(a);
  a.click();
  a.remove();
}

function busy(button, on) { if (button) button.disabled = on; }
function showError(box, err) { box.textContent = err ? String(err.message || err) : ""; box.hidden = !err; }

// ---------------------------------------------------------------- views and URL state

const FIELDS = ["model", "precision", "engines", "rate", "peak", "burstiness", "profile", "in_mean", "in_p99",
  "out_mean", "out_p99", "ttft", "tpot", "e2e", "percentile", "mode", "deadline", "regions", "families",
  "max_gpus", "weights", "cold", "redundancy", "no_spot", "vtop"];

function formValues() {
  const f = $("plan-form");
  const v = {};
  for (const name of FIELDS) {
    const input = f.elements[name];
    v[name] = input.type === "checkbox" ? (input.checked ? "1" : "") : input.value.trim();
  }
  return v;
}

function setForm(params) {
  const f = $("plan-form");
  for (const name of FIELDS) {
    if (!params.has(name)) continue;
    const input = f.elements[name];
    if (input.type === "checkbox") input.checked = params.get(name) === "1";
    else input.value = params.get(name);
  }
}

function shareQuery() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(formValues())) if (v !== "") p.set(k, v);
  return p;
}

function showView(name) {
  for (const v of ["plan", "option", "day", "lint"]) {
    $("view-" + v).hidden = v !== name;
    $("nav-" + v).toggleAttribute("aria-current", v === name);
    if (v === name) $("nav-" + v).setAttribute("aria-current", "page");
  }
}

function route() {
  const hash = location.hash.replace(/^#/, "");
  const [view] = hash.split("?");
  showView(["plan", "option", "day", "lint"].includes(view) ? view : "plan");
}

// ---------------------------------------------------------------- the workload file

function list(s) { return s.split(",").map((x) => x.trim()).filter(Boolean); }
function tomlString(s) { return JSON.stringify(s); } // a TOML basic string is a JSON string
function tomlList(xs) { return "[" + xs.map(tomlString).join(", ") + "]"; }
function tomlLength(mean, p99) { return p99 ? `{ mean = ${mean}, p99 = ${p99} }` : `${mean}`; }

// The form as a workload TOML, the same file `inferplan plan` reads.
function workloadToml(v) {
  const out = ['name = "web"', "", "[model]", `name = ${tomlString(v.model)}`, `precision = ${tomlString(v.precision)}`];
  if (v.engines) out.push(`engines = ${tomlList(list(v.engines))}`);
  out.push("", "[traffic]", `rate_rps = ${v.rate}`);
  if (v.peak) out.push(`peak_rps = ${v.peak}`);
  if (v.burstiness) out.push(`burstiness = ${v.burstiness}`);
  if (v.profile) out.push(`daily_profile = [${list(v.profile.replace(/\s+/g, ",")).join(", ")}]`);
  out.push("", "[lengths]", `input_tokens = ${tomlLength(v.in_mean, v.in_p99)}`,
    `output_tokens = ${tomlLength(v.out_mean, v.out_p99)}`);
  out.push("", "[slo]");
  if (v.ttft) out.push(`ttft_ms = ${v.ttft}`);
  if (v.tpot) out.push(`tpot_ms = ${v.tpot}`);
  if (v.e2e) out.push(`e2e_ms = ${v.e2e}`);
  out.push(`percentile = ${tomlString(v.percentile)}`, `mode = ${tomlString(v.mode)}`);
  if (v.deadline) out.push(`deadline_s = ${v.deadline}`);
  out.push("", "[constraints]", `regions = ${tomlList(list(v.regions))}`);
  if (v.families) out.push(`instance_families = ${tomlList(list(v.families))}`);
  if (v.max_gpus) out.push(`max_gpus_per_replica = ${v.max_gpus}`);
  if (v.weights) out.push(`weights_source = ${tomlString(v.weights)}`);
  if (v.cold) out.push(`cold_start_budget_s = ${v.cold}`);
  if (v.redundancy) out.push("redundancy = true");
  if (v.no_spot) out.push("", "[pricing]", "allow_spot = false");
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- plan

async function runPlan(verify) {
  const v = formValues();
  state.toml = workloadToml(v);
  const link = location.pathname + "#plan?" + shareQuery().toString();
  $("share-link").href = link;
  history.replaceState(null, "", link);
  const button = verify ? $("plan-verify") : $("plan-submit");
  busy(button, true);
  $("plan-status").textContent = verify ? "Planning and simulating each option's day…" : "Planning…";
  showError($("plan-error"), null);
  try {
    // `--top N` with `--verify`: each shown option's day is simulated (seconds each).
    const query = verify ? `?verify=true&top=${encodeURIComponent(v.vtop)}` : "";
    const plan = await api("/api/plan" + query, state.toml, "application/toml");
    state.plan = plan;
    state.chosen = 0;
    renderPlan(plan);
    renderDay(plan);
    $("plan-status").textContent = `${plan.candidates.length} options from ${plan.considered} configurations.`;
  } catch (err) {
    $("plan-result").hidden = true;
    showError($("plan-error"), err);
    $("plan-status").textContent = "";
  } finally {
    busy(button, false);
  }
}

const COLUMNS = [
  ["#", (c, i) => i + 1],
  ["instance", (c) => c.instance, "text"],
  ["region", (c) => c.region, "text"],
  ["layout", (c) => `TP${c.tp}${c.pp > 1 ? "×PP" + c.pp : ""} ${c.gpu}`, "text"],
  ["weights", (c) => c.precision, "text"],
  ["engine", (c) => c.engine, "text"],
  ["replicas", (c) => c.replicas],
  ["instances", (c) => c.instances],
  ["$/hour", (c) => fmt(c.usd_per_hour, 2)],
  ["$/1M out", (c) => fmt(c.usd_per_million_output_tokens, 2)],
  ["TTFT p99 ms", (c) => fmt(c.ttft_p99_ms, 0)],
  ["TPOT p99 ms", (c) => fmt(c.tpot_p99_ms, 1)],
  ["max rps/replica", (c) => fmt(c.max_rps_per_replica, 2)],
  ["util", (c) => fmt(100 * c.utilization, 0) + " %"],
];

function renderPlan(plan) {
  $("plan-result").hidden = false;
  $("plan-summary").textContent = plan.candidates.length === 0
    ? (plan.why_nothing ? plan.why_nothing.join ? plan.why_nothing.join(" ") : JSON.stringify(plan.why_nothing) : "Nothing qualifies.")
    : `${plan.model}: ${plan.candidates.length} options, cheapest first. Pick one for its memory and latency.`;
  const thead = $("options").tHead;
  thead.replaceChildren(el("tr", {}, COLUMNS.map(([h, , cls]) => el("th", { class: cls, scope: "col" }, h)), el("th", {}, "")));
  const tbody = $("options").tBodies[0];
  tbody.replaceChildren(...plan.candidates.map((c, i) => el("tr", { class: i === state.chosen ? "chosen" : "", "data-index": i },
    COLUMNS.map(([, f, cls]) => el("td", { class: cls }, f(c, i))),
    el("td", {}, el("button", { type: "button", class: "pick", "aria-label": `Details of option ${i + 1}`, onclick: () => choose(i) }, "details")))));
  renderChosen();
}

function renderChosen() {
  const plan = state.plan;
  const c = plan.candidates[state.chosen];
  for (const tr of $("options").tBodies[0].rows) tr.classList.toggle("chosen", Number(tr.dataset.index) === state.chosen);
  $("purchase").replaceChildren();
  $("findings").replaceChildren();
  if (!c) return;
  const m = c.purchase_mix;
  if (m) {
    $("purchase").append(el("table", { class: "compact" },
      el("tr", {}, el("th", { class: "text" }, "savings plan"), el("td", {}, m.savings_plan_instances)),
      el("tr", {}, el("th", { class: "text" }, "on demand"), el("td", {}, m.on_demand_instances)),
      el("tr", {}, el("th", { class: "text" }, "spot"), el("td", {}, m.spot_instances)),
      el("tr", {}, el("th", { class: "text" }, "$/hour (all on demand)"), el("td", {}, `${fmt(m.usd_per_hour, 2)} (${fmt(m.all_on_demand_usd_per_hour, 2)})`)),
      el("tr", {}, el("th", { class: "text" }, "instance-hours/day billed (needed)"), el("td", {}, `${fmt(m.billed_instance_hours_per_day, 1)} (${fmt(m.needed_instance_hours_per_day, 1)})`))),
      el("ul", { class: "help" }, (m.assumptions || []).map((a) => el("li", {}, a))));
  }
  const ep = plan.endpoint;
  $("endpoint").replaceChildren(ep ? el("p", {}, typeof ep === "string" ? ep : [ep.pattern || ep.kind || "", " ", ep.why || ep.reason || ep.message || ""].join(" ").trim() || JSON.stringify(ep)) : "");
  for (const f of c.findings || []) {
    $("findings").append(el("li", {},
      el("span", { class: "sev-" + f.severity }, `${f.code} ${f.severity}`), " ",
      el("a", { href: "/assets/" + f.docs, target: "_blank", rel: "noopener" }, f.name), ": ", f.message));
  }
  $("option-title").textContent = `Option ${state.chosen + 1}: ${c.replicas} × ${c.instance} (${c.engine}, ${c.precision}, TP${c.tp}${c.pp > 1 ? "×PP" + c.pp : ""})`;
}

function choose(i) {
  state.chosen = i;
  renderChosen();
  location.hash = "option?" + shareQuery().toString() + "&option=" + (i + 1);
  loadOption();
}

// ---------------------------------------------------------------- one option: memory and latency

// Rates of the latency curve, as shares of the plan's capacity per replica.
const LOAD_FACTORS = [0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25];
const CURVE_REQUESTS = 1500;

// The workload at one flat rate: the form's lengths, burstiness and SLOs, no daily profile.
function curveWorkload(v, rate) {
  return workloadToml({ ...v, rate: String(rate), peak: "", profile: "" });
}

// The flags of one replica of option `c` for `simulate --workload`.
function curveQuery(c) {
  return new URLSearchParams({
    model: state.plan.model, instance: c.instance, engine: c.engine, tp: c.tp, pp: c.pp, precision: c.precision,
    "kv-dtype": c.kv_dtype, replicas: 1, requests: CURVE_REQUESTS,
  });
}

// Requests/s each replica serves at the workload's peak: the peak (stated, or the busiest hour
// of the profile) over the option's replicas.
function peakPerReplica(plan, c) {
  const t = plan.workload && plan.workload.traffic;
  if (!t || !c.replicas) return null;
  let peak = t.peak_rps;
  if (peak === null || peak === undefined) {
    const w = t.daily_profile;
    peak = w && w.length ? t.rate_rps * 24 * Math.max(...w) / w.reduce((a, b) => a + b, 0) : t.rate_rps;
  }
  return peak / c.replicas;
}

async function loadOption() {
  const c = state.plan && state.plan.candidates[state.chosen];
  $("option-empty").hidden = !!c;
  $("option-body").hidden = !c;
  if (!c) return;
  const v = formValues();
  const common = { model: state.plan.model, precision: c.precision, kv_dtype: c.kv_dtype, instance: c.instance, tp: c.tp, pp: c.pp };
  const context = Number(v.in_p99 || v.in_mean) + Number(v.out_p99 || v.out_mean);
  $("vram-chart").textContent = "Fitting…";
  $("latency-chart").textContent = "Simulating…";
  try {
    const fit = await api("/api/fit", { ...common, context });
    drawVram(fit);
  } catch (err) { $("vram-chart").textContent = String(err.message); }
  try {
    const cap = c.max_rps_per_replica;
    const slo = { ttft_ms: Number(v.ttft) || null, tpot_ms: Number(v.tpot) || null };
    const points = [];
    for (const f of LOAD_FACTORS) {
      const rate = cap * f;
      const sim = await api("/api/simulate?" + curveQuery(c).toString(), curveWorkload(v, rate), "application/toml");
      points.push({ rate, sim });
    }
    drawLatency(points, c, slo, v.percentile || "p99", peakPerReplica(state.plan, c));
  } catch (err) { $("latency-chart").textContent = String(err.message); }
}

function svg(w, h, inner) {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${inner}</svg>`;
}
function esc(s) { return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]); }

function drawVram(fit) {
  const parts = [
    ["weights", fit.weights_gib_per_gpu, "var(--weights)"],
    ["KV cache (engine)", fit.engine_kv_cache_gib_per_gpu, "var(--kv)"],
    ["activations", fit.activations_gib_per_gpu, "var(--act)"],
    ["runtime overhead", fit.runtime_overhead_gib_per_gpu, "var(--overhead)"],
  ];
  const used = parts.reduce((s, p) => s + (p[1] || 0), 0);
  parts.push(["free", Math.max(0, fit.available_gib_per_gpu - used), "var(--free)"]);
  const W = 760, H = 90, x0 = 10, bw = W - 20;
  let x = x0, bars = "";
  for (const [name, gib, color] of parts) {
    const w = bw * (gib || 0) / fit.available_gib_per_gpu;
    bars += `<rect x="${x.toFixed(1)}" y="10" width="${Math.max(0, w).toFixed(1)}" height="40" style="fill:${color};stroke:#0003"><title>${esc(name)}: ${fmt(gib)} GiB</title></rect>`;
    x += w;
  }
  bars += `<text x="${x0}" y="70">0 GiB</text><text x="${x0 + bw}" y="70" text-anchor="end">${fmt(fit.available_gib_per_gpu, 1)} GiB per ${esc(fit.gpu)}</text>`;
  $("vram-chart").innerHTML = svg(W, H, bars) + `<div class="legend">${parts.map(([n, , c]) => `<span><i style="background:${c}"></i>${esc(n)}</span>`).join("")}</div>`;
  $("vram-table").replaceChildren(el("tr", {}, el("th", { class: "text" }, "per GPU"), el("th", {}, "GiB")),
    ...parts.map(([n, g]) => el("tr", { "data-part": n }, el("td", { class: "text" }, n), el("td", {}, fmt(g, 2)))),
    el("tr", {}, el("td", { class: "text" }, "available"), el("td", {}, fmt(fit.available_gib_per_gpu, 2))),
    el("tr", {}, el("td", { class: "text" }, "max concurrency (engine)"), el("td", {}, fmt(fit.engine_max_concurrency, 0))));
}

function drawLatency(points, c, slo, pct, op) {
  const W = 760, H = 300, L = 60, R = 60, T = 20, B = 40;
  const xs = points.map((p) => p.rate);
  const ttft = points.map((p) => p.sim.ttft_ms[pct]);
  const tpot = points.map((p) => p.sim.tpot_ms[pct]);
  const xmax = Math.max(...xs) * 1.05;
  const y1max = Math.max(...ttft, slo.ttft_ms || 0) * 1.1 || 1;
  const y2max = Math.max(...tpot, slo.tpot_ms || 0) * 1.1 || 1;
  const X = (x) => L + (W - L - R) * x / xmax;
  const Y1 = (y) => T + (H - T - B) * (1 - y / y1max);
  const Y2 = (y) => T + (H - T - B) * (1 - y / y2max);
  const path = (ys, Y) => ys.map((y, i) => `${i ? "L" : "M"}${X(xs[i]).toFixed(1)},${Y(y).toFixed(1)}`).join(" ");
  let g = `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#888"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#888"/><line x1="${W - R}" y1="${T}" x2="${W - R}" y2="${H - B}" stroke="#888"/>`;
  g += `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">requests/s on one replica</text>`;
  g += `<text x="${L - 6}" y="${T + 4}" text-anchor="end" style="fill:var(--weights)">${fmt(y1max, 0)}</text><text x="${L - 6}" y="${H - B}" text-anchor="end">0</text>`;
  g += `<text x="${W - R + 6}" y="${T + 4}" style="fill:var(--kv)">${fmt(y2max, 0)}</text>`;
  g += `<text x="${L + 4}" y="${T + 12}" style="fill:var(--weights)">TTFT ${pct} ms</text><text x="${W - R - 4}" y="${T + 12}" text-anchor="end" style="fill:var(--kv)">TPOT ${pct} ms</text>`;
  for (const x of xs) g += `<text x="${X(x).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${fmt(x, 2)}</text>`;
  g += `<path d="${path(ttft, Y1)}" fill="none" stroke="var(--weights)" stroke-width="2"/>`;
  g += `<path d="${path(tpot, Y2)}" fill="none" stroke="var(--kv)" stroke-width="2"/>`;
  if (slo.ttft_ms) g += `<line x1="${L}" x2="${W - R}" y1="${Y1(slo.ttft_ms)}" y2="${Y1(slo.ttft_ms)}" stroke="var(--weights)" stroke-dasharray="6 4"><title>TTFT SLO ${slo.ttft_ms} ms</title></line>`;
  if (slo.tpot_ms) g += `<line x1="${L}" x2="${W - R}" y1="${Y2(slo.tpot_ms)}" y2="${Y2(slo.tpot_ms)}" stroke="var(--kv)" stroke-dasharray="6 4"><title>TPOT SLO ${slo.tpot_ms} ms</title></line>`;
  if (op > 0 && op <= xmax) g += `<circle cx="${X(op).toFixed(1)}" cy="${Y1(c.ttft_p99_ms).toFixed(1)}" r="5" fill="#f59e0b"><title>the plan's operating point: ${fmt(op, 2)} req/s per replica at the peak, TTFT p99 ${fmt(c.ttft_p99_ms, 0)} ms as the plan predicts it</title></circle>`;
  $("latency-chart").innerHTML = svg(W, H, g);
  $("latency-table").replaceChildren(
    el("tr", {}, ["req/s", `TTFT ${pct} ms`, `TPOT ${pct} ms`, "SLO attainment"].map((h) => el("th", {}, h))),
    ...points.map((p) => el("tr", {}, el("td", {}, fmt(p.rate, 2)), el("td", {}, fmt(p.sim.ttft_ms[pct], 0)),
      el("td", {}, fmt(p.sim.tpot_ms[pct], 1)),
      el("td", {}, p.sim.slo_attainment && p.sim.slo_attainment.all !== null && p.sim.slo_attainment.all !== undefined ? fmt(100 * p.sim.slo_attainment.all, 1) + " %" : "no SLO"))));
}

// ---------------------------------------------------------------- the day

function renderDay(plan) {
  const verified = plan.verified || [];
  $("day-empty").hidden = verified.length > 0;
  $("day-body").hidden = verified.length === 0;
  if (!verified.length) return;
  const sel = $("day-option");
  sel.replaceChildren(...verified.map((v, i) => {
    const c = plan.candidates[v.candidate];
    return el("option", { value: i }, `#${v.candidate + 1} ${c.replicas} × ${c.instance} (${c.engine})`);
  }));
  sel.onchange = () => drawDay(verified[Number(sel.value)]);
  drawDay(verified[0]);
}

function drawDay(v) {
  const d = v.day;
  if (!d) {
    $("day-summary").textContent = v.day_skipped || "No day simulated for this option (a Batch Transform job has no endpoint to scale).";
    $("day-chart").replaceChildren();
    $("day-table").replaceChildren();
    return;
  }
  $("day-summary").textContent = `Autoscaling between ${d.min_replicas} and ${d.max_replicas} replicas (in flight ${d.target_in_flight}, queue ${d.target_queue} per replica); `
    + `${d.requests.toLocaleString("en-US")} requests, SLO attainment ${d.slo_attainment === null ? "not measured (no SLO)" : fmt(100 * d.slo_attainment, 2) + " %"}, `
    + `${d.scale_events} scale events, ${fmt(d.node_hours, 1)} node-hours (plan: ${fmt(d.planned_node_hours, 1)}), $${fmt(d.cost_usd, 2)}.`
    + (d.failing_hours.length ? ` Failing hours: ${d.failing_hours.join(", ")}. ${d.fix || ""}` : "");
  const W = 760, H = 260, L = 50, R = 60, T = 20, B = 36;
  const hours = d.hours;
  const ymax = Math.max(...hours.map((h) => Math.max(h.replicas_max, h.planned_replicas))) + 1;
  const X = (h) => L + (W - L - R) * (h + 0.5) / 24;
  const Y = (y) => T + (H - T - B) * (1 - y / ymax);
  const Ya = (a) => T + (H - T - B) * (1 - a);
  const bw = (W - L - R) / 24 * 0.35;
  let g = `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#888"/>`;
  for (const h of hours) {
    g += `<rect x="${(X(h.hour) - bw).toFixed(1)}" y="${Y(h.planned_replicas).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - B - Y(h.planned_replicas)).toFixed(1)}" style="fill:var(--margin)"><title>hour ${h.hour}: ${h.planned_replicas} planned</title></rect>`;
    g += `<rect x="${X(h.hour).toFixed(1)}" y="${Y(h.replicas_max).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - B - Y(h.replicas_max)).toFixed(1)}" style="fill:var(--weights)"><title>hour ${h.hour}: ${h.replicas_max} replicas at most</title></rect>`;
    if (h.hour % 3 === 0) g += `<text x="${X(h.hour).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${h.hour}:00</text>`;
  }
  const att = hours.filter((h) => h.slo_attainment !== null && h.slo_attainment !== undefined);
  if (att.length) {
    g += `<path d="${att.map((h, i) => `${i ? "L" : "M"}${X(h.hour).toFixed(1)},${Ya(h.slo_attainment).toFixed(1)}`).join(" ")}" fill="none" stroke="var(--kv)" stroke-width="2"/>`;
    g += `<text x="${W - R + 4}" y="${T + 4}" style="fill:var(--kv)">100 %</text><text x="${W - R + 4}" y="${H - B}" style="fill:var(--kv)">0 %</text>`;
  }
  g += `<text x="${L - 6}" y="${T + 4}" text-anchor="end">${ymax}</text><text x="${L - 6}" y="${H - B}" text-anchor="end">0</text>`;
  g += `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">hour of the day (UTC): planned replicas (grey), simulated (blue), SLO attainment (green)</text>`;
  $("day-chart").innerHTML = svg(W, H, g);
  $("day-table").replaceChildren(
    el("tr", {}, ["hour", "requests", "planned replicas", "simulated replicas", "nodes", "SLO attainment"].map((h) => el("th", {}, h))),
    ...hours.map((h) => el("tr", {}, el("td", {}, h.hour), el("td", {}, h.requests), el("td", {}, h.planned_replicas),
      el("td", {}, h.replicas_max), el("td", {}, h.nodes_max),
      el("td", {}, h.slo_attainment === null || h.slo_attainment === undefined ? "–" : fmt(100 * h.slo_attainment, 2) + " %"))));
}

// ---------------------------------------------------------------- lint

async function runLint() {
  const yaml = $("lint-input").value;
  busy($("lint-run"), true);
  showError($("lint-error"), null);
  $("lint-status").textContent = "Linting…";
  try {
    const findings = await api("/api/lint", yaml, "application/yaml");
    renderLint(yaml, findings);
    $("lint-status").textContent = findings.length ? `${findings.length} findings.` : "No findings.";
  } catch (err) {
    showError($("lint-error"), err);
    $("lint-status").textContent = "";
  } finally {
    busy($("lint-run"), false);
  }
}

function renderLint(yaml, findings) {
  $("lint-findings").replaceChildren(...findings.map((f) => el("li", { "data-code": f.code },
    el("span", { class: "sev-" + f.severity }, `${f.code} ${f.severity}`), " ",
    f.line ? el("a", { href: "#lint-line-" + f.line }, `line ${f.line}`) : "", " ", f.object ? `${f.object}: ` : "",
    el("a", { href: "/assets/" + f.docs, target: "_blank", rel: "noopener" }, f.name), ": ", f.message)));
  const byLine = new Map();
  for (const f of findings) if (f.line) byLine.set(f.line, [...(byLine.get(f.line) || []), f]);
  const pre = $("lint-lines");
  pre.replaceChildren(...yaml.split("\n").map((text, i) => {
    const hits = byLine.get(i + 1);
    const line = el("span", { id: "lint-line-" + (i + 1), class: hits ? "hit" : "" }, el("span", { class: "ln" }, i + 1), text, hits ? "" : "\n");
    return hits ? el("span", {}, line, ...hits.map((f) => el("span", { class: "msg" }, `▲ ${f.code}: ${f.message}`))) : line;
  }));
}

function setupDrop() {
  const box = $("lint-input");
  box.addEventListener("dragover", (e) => { e.preventDefault(); box.classList.add("drag"); });
  box.addEventListener("dragleave", () => box.classList.remove("drag"));
  box.addEventListener("drop", async (e) => {
    e.preventDefault();
    box.classList.remove("drag");
    const file = e.dataTransfer.files[0];
    if (file) { box.value = await file.text(); runLint(); }
  });
}

// ---------------------------------------------------------------- start

async function loadModels() {
  try {
    const models = await api("/api/catalog/models");
    $("models").replaceChildren(...models.flatMap((m) => [el("option", { value: m.name }), ...(m.hf_id ? [el("option", { value: m.hf_id })] : [])]));
  } catch (_) { /* the form still takes any name */ }
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  $("plan-form").addEventListener("submit", (e) => { e.preventDefault(); runPlan(false); });
  $("plan-verify").addEventListener("click", () => runPlan(true));
  $("lint-run").addEventListener("click", runLint);
  $("dl-adr").addEventListener("click", () => download("/api/plan?format=md", state.toml, "application/toml", "adr.md").catch((e) => showError($("plan-error"), e)));
  $("dl-manifests").addEventListener("click", () => download(`/api/render?archive=tar.gz&candidate=${state.chosen + 1}`, state.toml, "application/toml", "manifests.tar.gz").catch((e) => showError($("plan-error"), e)));
  for (const a of document.querySelectorAll("nav a")) a.addEventListener("click", () => {
    if (a.dataset.view === "option") loadOption();
  });
  setupDrop();
  loadModels();
  route();
  const query = location.hash.split("?")[1];
  if (query) {
    const params = new URLSearchParams(query);
    setForm(params);
    if (params.has("model")) {
      const option = Number(params.get("option") || 1) - 1;
      runPlan(false).then(() => {
        if (location.hash.startsWith("#option") && state.plan && state.plan.candidates[option]) { state.chosen = option; renderChosen(); loadOption(); }
      });
    }
  }
});
