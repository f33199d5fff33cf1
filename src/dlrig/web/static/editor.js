// dlrig build editor: the same form as without JavaScript, answered in place.
// Every action posts the form's fields as JSON to /api/editor, which answers the build's YAML and
// the HTML of the build panel (and of the part list when its view changed). Saved builds are
// remembered in this browser's localStorage (token, name, version: never the unsaved build).
"use strict";

const RECENT_KEY = "dlrig.recent";
const RECENT_MAX = 20;

document.addEventListener("DOMContentLoaded", () => {
  const saved = document.querySelector(".saved-panel[data-token]");
  if (saved) remember(saved.dataset);
  const form = document.getElementById("editor");
  if (form) liveEditor(form);
  showRecent();
});

function liveEditor(form) {
  let sequence = 0;
  const panel = document.getElementById("panel");
  const picker = document.getElementById("picker");
  panel.tabIndex = -1;

  async function send(op, submitter) {
    const fields = Object.fromEntries(new FormData(form, submitter || undefined));
    if (op) fields.op = op;
    const mine = ++sequence;
    const focusId = document.activeElement && document.activeElement.id;
    panel.setAttribute("aria-busy", "true");
    let body;
    try {
      const response = await fetch("/api/editor", {
        method: "POST",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(fields),
      });
      body = await response.json();
    } catch (err) {
      panel.removeAttribute("aria-busy");
      form.submit();  // the server renders the same page without us
      return;
    }
    if (mine !== sequence) return;  // a later action's answer is on its way
    panel.removeAttribute("aria-busy");
    panel.innerHTML = body.panel_html;
    if (body.picker_html !== undefined) picker.innerHTML = body.picker_html;
    if (!body.error) {
      form.elements.build.value = body.yaml;
      form.elements.name.value = body.name;
      form.elements.circuit.value = body.circuit;
      form.elements.circuits_more.value = body.circuits_more;
    } else if (body.error.line) {
      form.querySelector("details.advanced").open = true;
      selectLine(form.elements.build, body.error.line);
      return;
    }
    restoreFocus(focusId);
    if ((fields.op || "").startsWith("show:") && !picker.contains(document.activeElement)) {
      picker.scrollIntoView({block: "start"});  // "choose a cpu" in the panel: show the list
      const first = picker.querySelector("tbody button");
      if (first) first.focus({preventScroll: true});
    }
  }

  function restoreFocus(id) {
    const again = id && document.getElementById(id);
    if (again) again.focus();
    else if (id && id !== "picker-q") panel.focus();
  }

  form.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    if (submitter && submitter.hasAttribute("data-native")) return;  // downloads
    event.preventDefault();
    if (submitter && submitter.id === "save") save(form);
    else send(null, submitter);
  });
  let timer = null;
  document.getElementById("picker-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => send("filter"), 200);
  });
  for (const name of ["name", "circuit", "circuits_more"]) {
    form.elements[name].addEventListener("change", () => send("update"));
  }
  // a count, power limit, PSU or circuit changed in the build: checked when the field is left
  panel.addEventListener("change", (event) => {
    const name = event.target.name || "";
    if (/^(count|limit|psu|circuit)-/.test(name)) send("update");
  });
}

async function save(form) {
  const fields = Object.fromEntries(new FormData(form));
  fields.op = "update";
  const response = await fetch("/api/builds", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Accept": "application/json"},
    body: JSON.stringify(fields),
  });
  const body = await response.json();
  if (response.status === 201) {
    remember({token: body.token, name: body.name, version: String(body.version)});
    window.location.assign(body.url);
    return;
  }
  const panel = document.getElementById("panel");
  const box = document.createElement("div");
  box.className = "error";
  box.setAttribute("role", "alert");
  const p = document.createElement("p");
  p.textContent = "not saved: " + body.message + (body.hint ? " → " + body.hint : "");
  box.appendChild(p);
  panel.prepend(box);
}

function recent() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch (err) {
    return [];
  }
}

function remember(data) {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(data.token || "")) return;
  const entry = {token: data.token, name: String(data.name || "build").slice(0, 200),
                 version: String(data.version || ""), at: new Date().toISOString()};
  const list = [entry, ...recent().filter((e) => e.token !== entry.token)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch (err) { /* storage full or disabled: the permalink still works */ }
}

function showRecent() {
  const section = document.getElementById("recent");
  const list = recent();
  if (!section || !list.length) return;
  const ul = section.querySelector("ul");
  for (const e of list) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/b/" + encodeURIComponent(e.token);
    a.textContent = e.name + (e.version ? " (v" + e.version + ")" : "");  // text, never HTML
    li.appendChild(a);
    ul.appendChild(li);
  }
  section.hidden = false;
}
