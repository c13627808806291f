"""``rnncli inspect``'s page: one self-contained HTML file (its style, script and data inline;
nothing loaded from the network), which opens from disk in any browser. The text is coloured
when the page is written, so it reads even where scripts are off; the script recolours it by the
unit or label chosen in the page and shows each token's details under the pointer. No torch."""

from __future__ import annotations

import base64
import html
import json
from typing import Any, Sequence

import numpy as np

STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:0 0 9em 0;padding:1em 2em;color:#222;background:#fff}
h1{font-size:1.3em;margin:.2em 0}.meta{color:#555;margin:.2em 0}.notice{background:#fff3cd;padding:.3em .6em}
.controls{margin:.8em 0;display:flex;gap:1.5em;align-items:center;flex-wrap:wrap}
.legend span{display:inline-block;padding:0 .5em;border:1px solid #ddd}
.text{font:15px/1.9 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word;
border:1px solid #ddd;padding:.8em;border-radius:4px}
.row{margin:.6em 0;padding:.4em .6em;border:1px solid #ddd;border-radius:4px}
.row .label{font-weight:600;margin-right:.8em}
.t{cursor:pointer;border-radius:2px}.t.pin{outline:2px solid #222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.15em .6em;text-align:left}
tr.pick{cursor:pointer}tr.pick:hover{background:#f3f3f3}
.panel{position:fixed;left:0;right:0;bottom:0;background:#fafafa;border-top:1px solid #ccc;padding:.6em 2em;
min-height:4.5em;font-size:14px}.panel b{font-family:ui-monospace,Menlo,Consolas,monospace}
.bar{display:inline-block;height:.8em;background:#4a7bd0;vertical-align:middle;margin:0 .3em}
.guess{display:inline-block;margin-right:1.2em}
"""

SCRIPT = """
const D=JSON.parse(document.getElementById('rnncli-data').textContent);
const spans=[...document.querySelectorAll('.t')];const sel=document.getElementById('colour');
const panel=document.getElementById('panel');let pinned=D.focus;
function decode(u){const b=atob(u.values),a=new Int8Array(b.length);for(let i=0;i<b.length;i++){a[i]=b.charCodeAt(i)<<24>>24}return a}
const cache={};function unit(name){const u=D.units.find(x=>x.name===name);if(!u)return null;
if(!cache[name])cache[name]=decode(u);return {u:u,v:cache[name]}}
function paint(v){if(v>=0)return 'rgba(220,40,40,'+Math.min(1,v).toFixed(3)+')';return 'rgba(40,90,220,'+Math.min(1,-v).toFixed(3)+')'}
function heat(v){return 'rgba(255,140,0,'+Math.min(1,v).toFixed(3)+')'}
function value(i){const c=sel.value;
 if(D.kind==='lm'){if(c==='surprisal')return D.surprisal[i];const x=unit(c);return x?x.v[i]/127*x.u.scale:0}
 if(D.kind==='classify'){const t=D.token[i];const r=D.texts[t[0]];const k=c==='predicted'?r.best:+c;return r.effects[t[1]][k]}
 if(D.kind==='tag'){return D.tags[i][1]}return 0}
function colour(i){const c=sel.value,v=value(i);
 if(D.kind==='lm'){if(c==='surprisal')return heat(v/D.max_surprisal);const x=unit(c);return paint(x?x.v[i]/127:0)}
 if(D.kind==='classify')return paint(v/D.max_effect);if(D.kind==='tag')return heat(1-v);return ''}
function recolour(){spans.forEach((s,i)=>{s.style.background=colour(i)});show(pinned)}
function pct(p){return (100*p).toFixed(p<0.1?1:0)+'%'}
function esc(s){return s.replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c])).replace(/\\n/g,'\\u21b5').replace(/ /g,'\\u2423')}
function show(i){if(i===null||i===undefined||!spans[i])return;let h='';
 if(D.kind==='lm'){h='<b>'+esc(D.pieces[i])+'</b> &nbsp; token '+i+', surprisal '+D.surprisal[i].toFixed(2)+' bits';
  if(sel.value!=='surprisal')h+=', unit '+sel.value+' = '+value(i).toFixed(3);
  h+='<br>next-token guesses: '+D.guesses[i].map(g=>'<span class="guess"><b>'+esc(g[0])+'</b><span class="bar" style="width:'+(60*g[1]).toFixed(0)+'px"></span>'+pct(g[1])+'</span>').join('')}
 else if(D.kind==='classify'){const t=D.token[i],r=D.texts[t[0]];const k=sel.value==='predicted'?r.best:+sel.value;
  h='<b>'+esc(r.pieces[t[1]])+'</b> &nbsp; taking it out changes p('+esc(D.labels[k])+') by '+(-r.effects[t[1]][k]).toFixed(3)+' (from '+r.probs[k].toFixed(3)+')'}
 else if(D.kind==='tag'){const t=D.tags[i];h='<b>'+esc(t[0])+'</b> &nbsp; '+t[2].map(g=>'<span class="guess"><b>'+esc(g[0])+'</b><span class="bar" style="width:'+(60*g[1]).toFixed(0)+'px"></span>'+pct(g[1])+'</span>').join('')}
 panel.innerHTML=h}
spans.forEach((s,i)=>{s.addEventListener('mouseenter',()=>show(i));s.addEventListener('mouseleave',()=>show(pinned));
 s.addEventListener('click',()=>{if(spans[pinned])spans[pinned].classList.remove('pin');pinned=i;s.classList.add('pin');show(i)})});
document.querySelectorAll('tr.pick').forEach(r=>r.addEventListener('click',()=>{sel.value=r.dataset.unit;recolour()}));
if(sel)sel.addEventListener('change',recolour);if(spans[pinned])spans[pinned].classList.add('pin');show(pinned);
"""

MAX_UNITS = 48  # units whose activations a page carries (the found ones first): a page's size stays small


def _rgba(value: float, heat: bool = False) -> str:
    value = float(np.clip(value, -1.0, 1.0))
    if heat:
        return f"rgba(255,140,0,{abs(value):.3f})"
    return f"rgba(220,40,40,{value:.3f})" if value >= 0 else f"rgba(40,90,220,{-value:.3f})"


def _spans(pieces: Sequence[str], colours: Sequence[str], first: int = 0) -> str:
    return "".join(f'<span class="t" data-i="{first + k}" style="background:{c}">{html.escape(p)}</span>'
                   for k, (p, c) in enumerate(zip(pieces, colours)))


def _page(title: str, meta: str, notice: str, controls: str, body: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    notice_html = f'<p class="notice">{html.escape(notice)}</p>' if notice else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><p class=\"meta\">{html.escape(meta)}</p>"
            f"{notice_html}{controls}{body}<div id=\"panel\" class=\"panel\"></div>"
            f"<script type=\"application/json\" id=\"rnncli-data\">{payload}</script><script>{SCRIPT}</script>"
            "</body></html>\n")


def _select(options: Sequence[tuple[str, str]], chosen: str, legend: str) -> str:
    items = "".join(f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>{html.escape(t)}</option>'
                    for v, t in options)
    return (f'<div class="controls"><label>colour by <select id="colour">{items}</select></label>'
            f'<span class="legend">{legend}</span></div>')


def quantised(values: np.ndarray) -> tuple[float, str]:
    """A unit's activations as int8 (``scale`` maps 127 back), base64: a byte per token."""
    scale = float(np.max(np.abs(values))) or 1.0
    q = np.clip(np.round(values / scale * 127), -127, 127).astype(np.int8)
    return scale, base64.b64encode(q.tobytes()).decode("ascii")


def lm_page(trace: Any, title: str, meta: str, notice: str, found: Sequence[tuple[str, Any, float]],
            shown: Sequence[Any]) -> str:
    """The language model's page: ``found`` holds (feature, unit, r) rows, ``shown`` the units the
    page carries (found ones first). The page opens coloured by the best found unit (else by
    surprisal), pinned on the most surprising of its first tokens."""
    units, options = [], [("surprisal", "surprisal (bits spent on each token)")]
    for u in shown:
        scale, values = quantised(trace.units[f"{u.kind}{u.layer}"][:, u.index])
        units.append({"name": u.name, "scale": round(scale, 5), "values": values})
        kind = "cell" if u.kind == "c" else "hidden state"
        r = next((f", r {r:+.2f} with {feature}" for feature, unit, r in found if unit == u), "")
        options.append((u.name, f"unit {u.name} (layer {u.layer} {kind}){r}"))
    chosen = found[0][1].name if found else "surprisal"
    top = float(np.max(trace.surprisal)) if len(trace.surprisal) else 1.0
    if chosen == "surprisal":
        colours = [_rgba(s / top, heat=True) for s in trace.surprisal]
    else:
        u = found[0][1]
        column = trace.units[f"{u.kind}{u.layer}"][:, u.index]
        colours = [_rgba(v / (float(np.max(np.abs(column))) or 1.0)) for v in column]
    rows = "".join(f'<tr class="pick" data-unit="{u.name}"><td>{html.escape(feature)}</td><td>{u.name}</td>'
                   f"<td>{r:+.3f}</td></tr>" for feature, u, r in found)
    table = (f"<table><tr><th>feature</th><th>unit (click to show)</th><th>correlation r</th></tr>{rows}</table>"
             if found else "")
    legend = ('<span style="background:rgba(40,90,220,.8)">negative</span><span>0</span>'
              '<span style="background:rgba(220,40,40,.8)">positive</span> (each unit scaled to its largest '
              'value here); surprisal: <span style="background:rgba(255,140,0,.8)">more bits</span>')
    focus = int(np.argmax(trace.surprisal[:400])) if len(trace.surprisal) else 0  # a token near the top
    data = {"kind": "lm", "pieces": trace.pieces, "surprisal": [round(float(s), 2) for s in trace.surprisal],
            "max_surprisal": round(top, 3), "guesses": trace.guesses, "units": units, "focus": focus}
    body = f'{table}<div id="text" class="text">{_spans(trace.pieces, colours)}</div>'
    return _page(title, meta, notice, _select(options, chosen, legend), body, data)


def classifier_page(evidence: Sequence[Any], labels: Sequence[str], title: str, meta: str, notice: str,
                    strongest: dict[str, list[tuple[str, float, int]]]) -> str:
    """Each text with its predicted label, its tokens coloured by their effect on the label
    chosen in the page (each text's own prediction at first); and, over all the texts, the tokens
    that raise each label most."""
    top = max([float(np.max(np.abs(e.effects))) for e in evidence if e.effects.size] + [1e-6])
    rows, token, texts = [], [], []
    for t, e in enumerate(evidence):
        best = int(np.argmax(e.probs))
        colours = [_rgba(v / top) for v in e.effects[:, best]] if e.effects.size else []
        rows.append(f'<div class="row"><span class="label">{html.escape(labels[best])} {e.probs[best]:.3f}</span>'
                    f"{_spans([p + ' ' for p in e.pieces], colours, len(token))}</div>")
        token.extend([t, k] for k in range(len(e.pieces)))
        texts.append({"pieces": e.pieces, "probs": [round(float(p), 4) for p in e.probs], "best": best,
                      "effects": np.round(e.effects, 4).tolist()})
    options = [("predicted", "each text's predicted label")] + [(str(k), f"label {label}") for k, label in
                                                                 enumerate(labels)]
    tables = "".join(
        f"<table><tr><th colspan=3>tokens that raise p({html.escape(label)}) most, over these texts</th></tr>"
        f"<tr><th>token</th><th>mean effect</th><th>seen</th></tr>"
        + "".join(f"<tr><td>{html.escape(p)}</td><td>{m:+.3f}</td><td>{n}</td></tr>" for p, m, n in rows_)
        + "</table>" for label, rows_ in strongest.items() if rows_)
    legend = (f'<span style="background:rgba(220,40,40,.8)">for the label</span><span>0</span>'
              f'<span style="background:rgba(40,90,220,.8)">against it</span> (largest effect here {top:.3f}); '
              "method: occlusion, the change in the label's probability when the token is taken out")
    data = {"kind": "classify", "labels": list(labels), "texts": texts, "token": token, "max_effect": round(top, 5),
            "focus": 0}
    return _page(title, meta, notice, _select(options, "predicted", legend), "".join(rows) + tables, data)


def tagger_page(sentences: Sequence[Sequence[tuple[str, str, float, list[tuple[str, float]]]]], title: str,
                meta: str, notice: str) -> str:
    """Each sentence's tokens with their tags; the less sure the tagger, the warmer the token;
    the pointer shows its likeliest tags."""
    rows, tags = [], []
    for sentence in sentences:
        cells = []
        for token, tag, p, top in sentence:
            cells.append(f'<span class="t" data-i="{len(tags)}" style="background:{_rgba(1 - p, heat=True)}">'
                         f"{html.escape(token)}<sub>{html.escape(tag)}</sub></span> ")
            tags.append([f"{token} {tag}", round(p, 4), [[t, round(q, 4)] for t, q in top]])
        rows.append(f'<div class="row">{"".join(cells)}</div>')
    legend = '<span style="background:rgba(255,140,0,.8)">less sure</span> (1 - the probability of the tag given)'
    data = {"kind": "tag", "tags": tags, "focus": 0}
    controls = (f'<div class="controls"><select id="colour" hidden><option value="tag">tag</option></select>'
                f'<span class="legend">{legend}</span></div>')
    return _page(title, meta, notice, controls, "".join(rows), data)


def alignment_page(pairs: Sequence[tuple[list[str], list[str], np.ndarray]], title: str, meta: str,
                   notice: str) -> str:
    """Each translation's attention: a table whose rows are the output tokens and columns the
    source tokens, shaded by the weight the decoder gave each source token."""
    tables = []
    for source, target, weights in pairs:
        head = "".join(f"<th>{html.escape(s)}</th>" for s in source)
        body = "".join(
            f"<tr><th>{html.escape(t)}</th>" + "".join(
                f'<td style="background:rgba(40,90,220,{float(w):.3f})" title="{float(w):.3f}"></td>' for w in row)
            + "</tr>" for t, row in zip(target, weights))
        tables.append(f'<div class="row"><table><tr><th></th>{head}</tr>{body}</table></div>')
    controls = ('<div class="controls"><select id="colour" hidden><option value="a">attention</option></select>'
                '<span class="legend">rows: the translation, columns: the source; darker: more attention</span></div>')
    return _page(title, meta, notice, controls, "".join(tables), {"kind": "translate", "focus": None})
