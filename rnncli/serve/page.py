"""The page at ``/``: type a text, see each served run's answer, by what the run answers (labels
as bars, a continuation as it streams, tags, a translation). One HTML file with its script
inline: it loads nothing from anywhere but this server."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rnncli serve</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
textarea{width:100%;font:inherit;padding:.5em;box-sizing:border-box}
button{font:inherit;padding:.3em 1.2em;margin:.5em 0}
.run{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.8em 0}
.run h2{font-size:1em;margin:0 0 .4em}.muted{color:#777;font-weight:normal}
.bar{display:flex;align-items:center;gap:.6em;margin:.15em 0}
.bar .label{width:10em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar .fill{background:#3b6fd8;height:1em;border-radius:2px}
.out{white-space:pre-wrap;font-family:ui-monospace,monospace;background:#f6f6f6;padding:.5em;min-height:1.4em}
.tok{display:inline-block;margin:0 .3em .3em 0;text-align:center}.tok small{display:block;color:#3b6fd8}
.error{color:#b00}
</style></head>
<body>
<h1>rnncli serve</h1>
<p>Type a text; every served run answers it: classifiers with their labels, language models with a continuation
streamed as it is generated, taggers with a tag per token, translation models with a translation.</p>
<textarea id="text" rows="3">Congratulations! You have won a free prize, call now</textarea>
<br><button id="go">Ask</button> <span id="status" class="muted"></span>
<div id="runs"></div>
<script>
"use strict";
const runsBox = document.getElementById("runs"), statusBox = document.getElementById("status");
let runs = [];
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; return e; }
async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify(body)});
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error || r.status);
  return answer;
}
function bars(box, labels, probs) {
  labels.forEach((label, i) => { const row = el("div", "bar"); row.appendChild(el("span", "label", label));
    const fill = el("span", "fill"); fill.style.width = (probs[i] * 20) + "em"; row.appendChild(fill);
    row.appendChild(el("span", "", (100 * probs[i]).toFixed(1) + "%")); box.appendChild(row); });
}
async function stream(box, run, prompt) {
  const r = await fetch("/v1/generate", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({model: run.name, prompt: prompt, max_tokens: 200, stream: true})});
  if (!r.ok) { const a = await r.json(); throw new Error(a.error || r.status); }
  const out = el("div", "out"); out.appendChild(el("b", "", prompt)); box.appendChild(out);
  const reader = r.body.getReader(), decoder = new TextDecoder(); let buffer = "";
  for (;;) {
    const {value, done} = await reader.read(); if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut; while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
      const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const data = event.split("\\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("");
      if (event.startsWith("event: error")) throw new Error(JSON.parse(data).error);
      if (!event.startsWith("event:") && data) out.appendChild(document.createTextNode(JSON.parse(data).text));
    }
  }
}
async function answer(run, box, text) {
  box.textContent = "";
  const first = text.split("\\n")[0];
  const answers = name => run.endpoints.includes(name);
  if (answers("classify")) {
    const a = await post("/v1/classify", {model: run.name, texts: [text], k: 5});
    bars(box, a.results[0].labels, a.results[0].probs);
  } else if (answers("generate")) { await stream(box, run, text);
  } else if (answers("tag")) {
    const a = await post("/v1/tag", {model: run.name, texts: [first]}), out = el("div");
    a.results[0].tokens.forEach((t, i) => { const s = el("span", "tok", t);
      s.appendChild(el("small", "", a.results[0].tags[i])); out.appendChild(s); }); box.appendChild(out);
  } else if (answers("translate")) {
    const a = await post("/v1/translate", {model: run.name, texts: [first], beam: 4});
    box.appendChild(el("div", "out", a.results[0].translation));
  }
}
async function ask() {
  const text = document.getElementById("text").value;
  statusBox.textContent = "asking " + runs.length + " run(s)...";
  await Promise.all(runs.map(run => answer(run, run.box, text).catch(e => {
    run.box.textContent = ""; run.box.appendChild(el("div", "error", "error: " + e.message)); })));
  statusBox.textContent = "";
}
async function start() {
  try {
    const r = await fetch("/v1/models"); runs = (await r.json()).models;
  } catch (e) { statusBox.textContent = "error: " + e.message; return; }
  for (const run of runs) {
    const card = el("div", "run"), title = el("h2", "", run.name + " ");
    title.appendChild(el("span", "muted", run.task + ", " + run.engine)); card.appendChild(title);
    run.box = el("div"); card.appendChild(run.box); runsBox.appendChild(card);
  }
  document.getElementById("go").onclick = ask;
  ask();
}
start();
</script>
</body></html>
"""
