"""The operators' dashboard: one page, no external assets (works on a closed network)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Yongchuan city brain</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#0f1720;color:#e6edf3}
header{padding:12px 20px;background:#16202b;display:flex;gap:16px;align-items:center}
h1{font-size:18px;margin:0} main{display:grid;grid-template-columns:320px 1fr;gap:16px;padding:16px}
section{background:#16202b;border-radius:8px;padding:12px} h2{font-size:14px;margin:0 0 8px}
.ok{color:#3fb950}.bad{color:#f85149} li{margin:4px 0;font-size:13px;list-style:none}
ul{padding:0;margin:0} input{width:420px} code{color:#79c0ff}
</style></head>
<body><header><h1>永川 Yongchuan city brain</h1>
<label>Token <input id="token" type="password" placeholder="operator JWT"></label>
<button id="connect">Connect</button><span id="state"></span></header>
<main><section><h2>Services</h2><ul id="services"></ul></section>
<section><h2>Live events</h2><ul id="events"></ul></section></main>
<script>
const $ = (id) => document.getElementById(id);
$("token").value = localStorage.getItem("cityToken") || "";
async function refresh() {
  const token = $("token").value;
  const r = await fetch("/api/v1/status", {headers: {Authorization: "Bearer " + token}});
  if (!r.ok) { $("state").textContent = "status: " + r.status; return; }
  const body = await r.json();
  $("services").innerHTML = Object.entries(body.services).map(([name, s]) =>
    `<li class="${s.ready ? "ok" : "bad"}">${s.ready ? "●" : "○"} ${name}</li>`).join("");
}
let source;
function connect() {
  const token = $("token").value;
  localStorage.setItem("cityToken", token);
  if (source) source.close();
  source = new EventSource("/api/v1/events/stream?access_token=" + encodeURIComponent(token));
  source.onopen = () => { $("state").textContent = "live"; };
  source.onerror = () => { $("state").textContent = "reconnecting…"; };
  source.onmessage = () => {};
  const show = (e) => {
    const ev = JSON.parse(e.data);
    const li = document.createElement("li");
    li.innerHTML = `<code>${ev.time.slice(11, 19)}</code> ${ev.type} <b>${ev.subject ?? ""}</b>`;
    $("events").prepend(li);
    while ($("events").children.length > 200) $("events").lastChild.remove();
  };
  for (const t of TYPES) source.addEventListener(t, show);
  refresh(); setInterval(refresh, 10000);
}
const TYPES = %TYPES%;
$("connect").onclick = connect;
if ($("token").value) connect();
</script></body></html>"""


def render_dashboard(event_types: list[str]) -> str:
    import json

    return _PAGE.replace("%TYPES%", json.dumps(event_types))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> HTMLResponse:
    from city_common.events.registry import EVENTS

    types = [spec.type for spec in EVENTS if spec.topic != "camera.frames"]
    return HTMLResponse(render_dashboard(types))
