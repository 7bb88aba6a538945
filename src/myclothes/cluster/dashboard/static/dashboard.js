"use strict";
// The cluster dashboard: asks /api/status and /api/metrics every REFRESH_MS and redraws the zones and the charts.
// The server caches both for about a second, so several open pages cost no more probes than one.

const REFRESH_MS = 1500;
const KIND_ORDER = ["haproxy", "prometheus", "web", "postgres", "redis", "sentinel", "etcd", "pg-exporter",
  "redis-exporter"];
const KIND_NAMES = { haproxy: "load balancer", prometheus: "Prometheus", web: "web", postgres: "PostgreSQL",
  redis: "Redis", sentinel: "Sentinel", etcd: "etcd", "pg-exporter": "PostgreSQL exporter",
  "redis-exporter": "Redis exporter" };
const ROLE_NAMES = { primary: "primary", standby: "sync standby", replica: "replica" };
const HEALTH_MARKS = { up: "● up", down: "✖ DOWN", spare: "○ spare" };
const SERIES_COLOURS = { browse: "#1f5fbf", cart: "#2e7d32", login: "#7b1fa2", checkout: "#e65100" };
const PALETTE = ["#1f5fbf", "#c62828", "#2e7d32", "#7b1fa2", "#e65100", "#00838f", "#6d4c41", "#ad1457"];
const charts = new Map();

function el(tag, attributes = {}, text = "") {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text) element.textContent = text;
  return element;
}

function format(value) {
  const size = Math.abs(value);
  if (size >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (size >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(size >= 100 ? 0 : size >= 10 ? 1 : 2);
}

function health(node) {
  if (node.role === "spare") return "spare";
  return node.healthy ? "up" : "down";
}

function nodeItem(node) {
  const state = health(node);
  const item = el("li", { class: `node ${state}`, "data-node": node.name, "data-kind": node.kind,
    "data-health": state, "data-role": node.role });
  item.append(el("span", { class: "name" }, node.name), el("span", { class: "kind" }, KIND_NAMES[node.kind] || node.kind),
    el("span", { class: "health" }, HEALTH_MARKS[state]));
  if (ROLE_NAMES[node.role]) item.append(el("span", { class: `role ${node.role}` }, ROLE_NAMES[node.role]));
  if (node.lag !== null && node.role !== "primary") {
    item.append(el("span", { class: "lag" }, `lag ${typeof node.lag === "number" ? format(node.lag) + " B" : node.lag}`));
  }
  return item;
}

function renderZones(nodes) {
  const zones = new Map([["-", []]]);
  for (const node of nodes) {
    if (!zones.has(node.zone)) zones.set(node.zone, []);
    zones.get(node.zone).push(node);
  }
  const order = (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind)
    || a.name.localeCompare(b.name, undefined, { numeric: true });
  const columns = [...zones].map(([zone, members]) => {
    const down = members.filter((node) => health(node) === "down").length;
    const column = el("div", { class: down ? "zone has-down" : "zone", "data-zone": zone });
    column.append(el("h3", {}, zone === "-" ? "Shared" : `Zone ${zone}`),
      el("p", { class: "zone-state" }, down ? `✖ ${down} down` : "● all up"));
    const list = el("ul");
    list.append(...members.sort(order).map(nodeItem));
    column.append(list);
    return column;
  });
  document.getElementById("zones").replaceChildren(...columns);
}

function renderStatus(answer) {
  const zones = document.getElementById("zones");
  const summary = document.getElementById("summary");
  const updated = new Date(answer.at * 1000).toLocaleTimeString();
  if (answer.error) {
    zones.classList.add("stale");
    summary.textContent = `cluster not answering (${answer.error}) · ${updated}`;
    return;
  }
  const nodes = answer.status.nodes;
  zones.classList.remove("stale");
  renderZones(nodes);
  const webs = nodes.filter((node) => node.kind === "web" && node.role !== "spare");
  const primary = (kind) => {  // Patroni's member list names a dead leader until its key expires
    const node = nodes.find((candidate) => candidate.kind === kind && candidate.role === "primary");
    return node ? `${node.name}${node.healthy ? "" : " (DOWN)"}` : "none";
  };
  const balancer = nodes.find((node) => node.kind === "haproxy");
  summary.textContent = [`updated ${updated} (status probe ${Math.round(answer.took_ms)} ms)`,
    `load balancer ${balancer && balancer.healthy ? "up" : "DOWN"}`,
    `web ${webs.filter((node) => node.healthy).length} of ${webs.length} up`,
    `PostgreSQL primary ${primary("postgres")}`, `Redis primary ${primary("redis")}`].join(" · ");
}

function colour(label, index) {
  return SERIES_COLOURS[label] || PALETTE[index % PALETTE.length];
}

function chartOptions(panel, width) {
  return {
    width, height: 180,
    scales: { x: { time: true } },
    legend: { show: false },  // the figures under the chart are the legend: colour, name and latest value
    axes: [{}, { size: 52, values: (_chart, ticks) => ticks.map(format) }],
    series: [{}, ...panel.series.map((series, index) => ({
      label: series.label, stroke: colour(series.label, index), width: 2,
      value: (_chart, value) => (value === null ? "–" : format(value)),
    }))],
  };
}

function latest(series, index, unit) {
  const value = series.values.slice(-3).reverse().find((v) => v !== null) ?? null;
  const row = el("div", { "data-series": series.label, "data-value": value === null ? "" : String(value) });
  row.style.setProperty("--colour", colour(series.label, index));
  row.append(el("dt", {}, series.label), el("dd", {}, value === null ? "–" : `${format(value)} ${unit}`));
  return row;
}

function drawPanel(box, panel) {
  let entry = charts.get(panel.id);
  if (!entry) {
    const figure = el("figure", { class: "chart", "data-panel": panel.id });
    entry = { plot: el("div", { class: "plot" }), figures: el("dl", { class: "figures" }), labels: null, chart: null };
    figure.append(el("figcaption", {}, `${panel.title} (${panel.unit})`), entry.plot, entry.figures);
    box.append(figure);
    charts.set(panel.id, entry);
  }
  const data = [panel.times, ...panel.series.map((series) => series.values)];
  const labels = panel.series.map((series) => series.label).join("|");
  if (entry.labels !== labels) {  // a series came or went: uPlot's series are fixed at creation
    entry.chart?.destroy();
    entry.chart = new uPlot(chartOptions(panel, entry.plot.clientWidth), data, entry.plot);
    entry.labels = labels;
  } else {
    entry.chart.setData(data);
  }
  const figures = panel.series.map((series, index) => latest(series, index, panel.unit));
  entry.figures.replaceChildren(...(figures.length ? figures : [el("div", {}, "no data yet")]));
}

function renderMetrics(answer) {
  const state = document.getElementById("metrics-state");
  const box = document.getElementById("charts");
  state.hidden = answer.available;
  box.hidden = !answer.available;
  if (!answer.available) {
    state.textContent = `metrics unavailable: Prometheus did not answer (${answer.error || "no answer"}); the nodes above are still live`;
    return;
  }
  for (const panel of answer.panels) drawPanel(box, panel);
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  await Promise.allSettled([
    getJSON("/api/status").then(renderStatus, (error) => renderStatus({ error: `dashboard: ${error.message}`, at: Date.now() / 1000 })),
    getJSON("/api/metrics").then(renderMetrics, (error) => renderMetrics({ available: false, error: error.message })),
  ]);
  setTimeout(refresh, REFRESH_MS);
}

window.addEventListener("resize", () => {
  for (const entry of charts.values()) entry.chart?.setSize({ width: entry.plot.clientWidth, height: 180 });
});
refresh();
