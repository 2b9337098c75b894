/*
 * Embeddable chat button for "Ask the reporting".
 *
 *   <script src="http://HOST:7860/widget.js" data-title="Ask the reporting"></script>
 *
 * Adds a floating button; clicking it opens the chat's compact view (HOST/embed/)
 * in an iframe panel. Everything lives in a shadow root, so the host page's CSS
 * cannot restyle it and its CSS does not leak out. Nothing is loaded from
 * anywhere but HOST. The title is set as text, never as HTML.
 */
(function () {
  "use strict";
  // currentScript is this tag (also when a page inserts it); else the last tag loading widget.js.
  var script = document.currentScript || Array.prototype.slice.call(
    document.querySelectorAll("script[src$='/widget.js']")).pop();
  if (!script || window.__conflictQaWidget) return;
  window.__conflictQaWidget = true;

  var appOrigin = new URL(script.src, document.baseURI).origin;
  var title = script.getAttribute("data-title") || "Ask the reporting";

  var css = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  display: flex; align-items: center; gap: 8px; padding: 12px 18px; border: 0; border-radius: 999px;",
    "  background: #1e293b; color: #fff; cursor: pointer; box-shadow: 0 6px 24px rgba(15,23,42,.28);",
    "  font: 600 15px/1 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; }",
    ".launcher:hover { background: #0f172a; }",
    ".launcher:focus-visible, .close:focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }",
    ".launcher svg { width: 18px; height: 18px; }",
    ".panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; width: 420px;",
    "  height: min(680px, calc(100vh - 110px)); display: none; flex-direction: column; overflow: hidden;",
    "  background: #fff; border-radius: 14px; box-shadow: 0 18px 60px rgba(15,23,42,.35); }",
    ".panel.open { display: flex; }",
    ".bar { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px;",
    "  background: #1e293b; color: #fff; font: 600 15px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; }",
    ".close { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 2px 6px; }",
    "iframe { flex: 1; width: 100%; border: 0; background: #fff; }",
    "@media (max-width: 520px) { .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; border-radius: 0; }",
    // The full-screen panel has its own close button: the launcher would only cover its corner.
    "  .panel.open + .launcher { display: none; } }"
  ].join("\n");

  var host = document.createElement("div");
  host.setAttribute("data-conflict-qa-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  var launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.innerHTML =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">' +
    '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>';
  var label = document.createElement("span");
  label.textContent = title;
  launcher.appendChild(label);

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var bar = document.createElement("div");
  bar.className = "bar";
  var heading = document.createElement("span");
  heading.textContent = title;
  var close = document.createElement("button");
  close.className = "close";
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  close.textContent = "\u00d7";
  bar.appendChild(heading);
  bar.appendChild(close);
  panel.appendChild(bar);

  var frame = null;
  function setOpen(open) {
    if (open && !frame) {
      // Created on first open, so a page that never opens the chat never loads it.
      frame = document.createElement("iframe");
      frame.src = appOrigin + "/embed/";
      frame.title = title;
      frame.setAttribute("referrerpolicy", "no-referrer");
      panel.appendChild(frame);
    }
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
  }
  launcher.addEventListener("click", function () { setOpen(!panel.classList.contains("open")); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.classList.contains("open")) setOpen(false);
  });

  root.appendChild(panel);
  root.appendChild(launcher);
  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
