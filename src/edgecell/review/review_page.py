"""The review page: one frame large, the model's guess and scores, a button and a key per class,
skip, none of these, undo. Everything inline (no external assets: it works offline); text from a
board or a class folder reaches the page through `textContent`, never as HTML."""

KEYS = "1234567890abcdefghijklmopqrtvwxy"  # one per class, in order; n, s and u are taken
# Classes named by one character each (digits, letters) are their own keys instead: 3 labels "3".
NONE_KEY, SKIP_KEY, UNDO_KEY = "n", "s", "u"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgecell review</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 15px system-ui, sans-serif; margin: 0; background: #111; color: #eee; display: flex; height: 100vh; }
#left { flex: 1; display: flex; align-items: center; justify-content: center; background: #000; }
#frame { max-width: 100%; max-height: 100vh; min-width: 60%; image-rendering: pixelated; object-fit: contain; }
#right { width: 340px; padding: 16px; overflow-y: auto; }
button { display: block; width: 100%; margin: 4px 0; padding: 8px; font-size: 15px; text-align: left;
  background: #2a2a2a; color: #eee; border: 1px solid #444; border-radius: 4px; cursor: pointer; }
button:hover { background: #3a3a3a; } button.guess { border-color: #6c6; }
kbd { display: inline-block; min-width: 1.2em; padding: 0 4px; margin-right: 8px; background: #444; border-radius: 3px;
  text-align: center; }
table { width: 100%; border-collapse: collapse; } td { padding: 2px 4px; } td.n { text-align: right; }
.muted { color: #999; overflow-wrap: anywhere; } #done { font-size: 20px; margin-top: 40px; }
</style></head><body>
<div id="left"><img id="frame" alt="the frame to label"><div id="done" hidden>Nothing left to label.</div></div>
<div id="right">
  <div><b id="guess"></b> <span id="score" class="muted"></span></div>
  <div id="why" class="muted"></div>
  <div id="source" class="muted"></div>
  <table id="scores"></table>
  <div id="classes"></div>
  <button id="none"><kbd>n</kbd>none of these</button>
  <button id="skip"><kbd>s</kbd>skip</button>
  <button id="undo"><kbd>u</kbd>undo the last move</button>
  <p><span id="remaining"></span> left; <span id="labelled">0</span> labelled</p>
  <p id="last" class="muted"></p><p id="error" style="color:#f88"></p>
</div>
<script>
const KEYS = "__KEYS__";
let state = null, keys = KEYS;
function el(id) { return document.getElementById(id); }
async function call(path, body) {
  const options = body === undefined ? {} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const answer = await fetch(path, options);
  const data = await answer.json();
  el("error").textContent = answer.ok ? "" : (data.error || "failed");
  if (answer.ok) show(data);
}
function button(text, key, action, guess) {
  const b = document.createElement("button");
  const k = document.createElement("kbd"); k.textContent = key || " ";
  const t = document.createElement("span"); t.textContent = text;
  b.append(k, t);
  if (guess) b.className = "guess";
  b.onclick = action; return b;
}
function show(data) {
  state = data;
  const own = data.classes.every((c) => c.length === 1 && !"__RESERVED__".includes(c));
  keys = own && new Set(data.classes).size === data.classes.length ? data.classes.join("") : KEYS;
  const f = data.frame;
  el("remaining").textContent = data.remaining;
  el("labelled").textContent = data.labelled;
  el("last").textContent = data.last ? "last: " + data.last.key + " \\u2192 " + data.last.to : "";
  el("frame").hidden = !f; el("done").hidden = !!f;
  el("classes").replaceChildren(...data.classes.map((c, i) =>
    button(c, keys[i], () => choose(c), f && f.guess === c)));
  const rows = [];
  if (f) {
    el("frame").src = "frame.jpg?key=" + encodeURIComponent(f.key);
    el("frame").dataset.key = f.key;
    el("guess").textContent = f.guess === null ? "no guess" : "guess: " + f.guess;
    el("score").textContent = f.score === null ? "" : f.score.toFixed(3);
    el("why").textContent = f.why ? "kept because: " + f.why : "";
    el("source").textContent = f.key + (f.source ? " (" + f.source + ")" : "");
    for (const [label, score] of f.scores) {
      const tr = document.createElement("tr");
      const a = document.createElement("td"); a.textContent = label;
      const b = document.createElement("td"); b.className = "n"; b.textContent = score.toFixed(3);
      tr.append(a, b); rows.push(tr);
    }
  } else {
    for (const id of ["guess", "score", "why", "source"]) el(id).textContent = "";
  }
  el("scores").replaceChildren(...rows);
}
function choose(choice) { if (state && state.frame) call("label", {key: state.frame.key, choice: choice}); }
el("none").onclick = () => choose(null);
el("skip").onclick = () => { if (state && state.frame) call("skip", {key: state.frame.key}); };
el("undo").onclick = () => call("undo", {});
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !state) return;
  const i = keys.indexOf(e.key);
  if (i >= 0 && i < state.classes.length) choose(state.classes[i]);
  else if (e.key === "__NONE__") choose(null);
  else if (e.key === "__SKIP__") el("skip").click();
  else if (e.key === "__UNDO__") el("undo").click();
});
call("state.json");
</script></body></html>
"""


def page() -> bytes:
    reserved = NONE_KEY + SKIP_KEY + UNDO_KEY
    filled = PAGE.replace("__KEYS__", KEYS).replace("__RESERVED__", reserved).replace("__NONE__", NONE_KEY)
    return filled.replace("__SKIP__", SKIP_KEY).replace("__UNDO__", UNDO_KEY).encode("utf-8")
