// Runs once per chat page (gr.HTML js_on_load in assistant/web/ui.py). Plain DOM, no libraries.
// - A new answer is scrolled so its top (the first quote) is in view, not the bottom of the sources.
// - "Copy" puts the answer's Markdown (quotes in quotation marks, attribution, link) on the clipboard.
// - A length counter appears under the question box near the 1,000-character limit.
(function () {
  "use strict";
  if (window.__cqaChat) return;
  window.__cqaChat = true;
  var LIMIT = 1000, SHOW_FROM = 800;

  function chat() { return document.getElementById("cqa-chat"); }

  var seen = new WeakSet();
  function showNewAnswers() {
    var root = chat();
    if (!root) return;
    var answers = root.querySelectorAll(".cqa-answer, .cqa-refusal");
    var newest = null;
    answers.forEach(function (answer) {
      if (!seen.has(answer)) { seen.add(answer); newest = answer; }
    });
    if (!newest) return;
    // The bubble holding the answer: scroll its top (the first quote, or the line saying which page
    // or order it is) to the top of the chat log.
    var target = newest.querySelector(".cqa-page-note, blockquote") || newest;
    var log = target.closest(".bubble-wrap") || target.closest("[role='log']");
    if (log) {
      var top = target.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
      log.scrollTop = Math.max(0, top);
    } else {
      target.scrollIntoView({ block: "start" });
    }
    if (newest.classList.contains("cqa-answer")) newest.setAttribute("data-cqa-shown", "top");
  }
  new MutationObserver(function () { window.requestAnimationFrame(showNewAnswers); })
    .observe(document.body, { childList: true, subtree: true });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cqa-copy");
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    var label = link.textContent;
    fetch(link.getAttribute("href"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (text) { window.__cqaCopied = text; return copyText(text); })
      .then(function () { link.textContent = "Copied"; },
            function () { link.textContent = "Copy failed"; })
      .then(function () { setTimeout(function () { link.textContent = label; }, 2000); });
  }, true);

  // The phone's filter drawer: "Filters" opens it, "Done" or Escape closes it.
  function setDrawer(open) {
    // On the drawer itself: Gradio rewrites `body` in custom CSS, so a body class would not match.
    var drawer = document.getElementById("cqa-filters");
    if (drawer && !drawer.classList.contains("cqa-filters")) {
      // The widget's compact view folds the filters in an accordion: open it instead.
      var head = drawer.querySelector("button");
      if (head) { head.click(); head.focus(); }
      return;
    }
    if (drawer) drawer.classList.toggle("cqa-open", open);
    document.body.classList.toggle("cqa-drawer-open", open);
    document.querySelectorAll(".cqa-drawer-toggle").forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      var first = document.querySelector("#cqa-filters input");
      if (first) first.focus();
    } else {
      var toggle = document.querySelector(".cqa-drawer-toggle");
      if (toggle) toggle.focus();
    }
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest(".cqa-drawer-toggle")) setDrawer(!document.body.classList.contains("cqa-drawer-open"));
    else if (event.target.closest(".cqa-drawer-close")) setDrawer(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("cqa-drawer-open")) setDrawer(false);
  });

  function counter() {
    var box = document.querySelector("#cqa-question textarea");
    if (!box || box.__cqaCounter) return;
    box.__cqaCounter = true;
    var note = document.createElement("p");
    note.className = "cqa-counter";
    note.setAttribute("aria-live", "polite");
    note.hidden = true;
    box.closest("#cqa-question").appendChild(note);
    function update() {
      var length = box.value.length;
      note.hidden = length < SHOW_FROM;
      note.textContent = length > LIMIT
        ? length.toLocaleString("en") + " / 1,000 characters: too long, shorten the question"
        : length.toLocaleString("en") + " / 1,000 characters";
      note.classList.toggle("cqa-over", length > LIMIT);
    }
    box.addEventListener("input", update);
    update();
  }
  new MutationObserver(counter).observe(document.body, { childList: true, subtree: true });
  counter();

  // Names and roles Gradio leaves out (axe-core: button-name, aria-required-children).
  function label() {
    document.querySelectorAll("#cqa-since .calendar, #cqa-until .calendar").forEach(function (button) {
      if (!button.getAttribute("aria-label")) {
        var field = button.closest("#cqa-since") ? "From" : "Until";
        button.setAttribute("aria-label", "Pick the “" + field + "” date from a calendar");
      }
    });
    // A table that scrolls sideways must be reachable from the keyboard (axe: scrollable-region-focusable).
    document.querySelectorAll("#cqa-chat .cqa-compare:not([tabindex])").forEach(function (box) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Figures by source (scrolls sideways)");
    });
    document.querySelectorAll("#cqa-chat .examples[role]").forEach(function (list) {
      if (list.getAttribute("role") !== "group") {
        list.setAttribute("role", "group");
        list.setAttribute("aria-label", "Example questions");
      }
    });
  }
  new MutationObserver(label).observe(document.body, { childList: true, subtree: true, attributes: true,
                                                       attributeFilter: ["role", "aria-label"] });
  label();
})();
