// Follows a run's event stream (the browser's EventSource reconnects by itself and sends
// Last-Event-ID, so nothing is shown twice) and shows each tool call as it happens.
"use strict";
(function () {
  const list = document.getElementById("events");
  const status = document.getElementById("run-status");
  const answer = document.getElementById("answer");
  const waiting = document.getElementById("waiting");
  if (!list) return;

  function line(kind, text) {
    const li = document.createElement("li");
    li.className = "ev-" + kind;
    li.textContent = text;
    list.appendChild(li);
  }
  function short(value) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 300 ? text.slice(0, 300) + "…" : text;
  }

  const source = new EventSource(list.dataset.stream);
  source.addEventListener("metadata", (e) => {
    const d = JSON.parse(e.data);
    if (d.status) status.textContent = d.status;
    else { status.textContent = "running"; line("metadata", "started (attempt " + d.attempt + ")"); }
  });
  source.addEventListener("updates", (e) => {
    for (const node of Object.keys(JSON.parse(e.data))) line("update", "node " + node);
  });
  source.addEventListener("custom", (e) => {
    const d = JSON.parse(e.data);
    if (d.kind === "tool_call") line("tool_call", "→ " + d.name + " " + short(d.args || {}));
    else if (d.kind === "tool_result") line("tool_result", "← " + (d.name || "") + " " + short(d.summary || d.status || d));
    else line("custom", short(d));
  });
  source.addEventListener("messages", (e) => {
    const [chunk] = JSON.parse(e.data);
    if (chunk && chunk.content) { answer.hidden = false; answer.textContent += chunk.content; }
  });
  source.addEventListener("values", (e) => {
    const d = JSON.parse(e.data);
    const messages = (d.messages || []).filter((m) => m.type === "ai" && m.content);
    if (messages.length) { answer.hidden = false; answer.textContent = messages[messages.length - 1].content; }
    waiting.hidden = !d.__interrupt__;
  });
  source.addEventListener("error", (e) => {
    if (e.data) line("error", "error: " + short(JSON.parse(e.data).message || e.data));
  });
  source.addEventListener("end", (e) => {
    const d = JSON.parse(e.data);
    status.textContent = d.status;
    status.dataset.status = d.status;
    line("end", "run ended: " + d.status);
    source.close();
  });
})();
