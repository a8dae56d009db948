// TrialScout progressive enhancement. Every page works without this file; with it, the
// eligibility self-check saves each answer as it is given and updates the verdict live.
// Text from the server is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function api(method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      var fresh = response.headers.get("X-CSRF-Token");
      if (fresh) { csrf = fresh; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function statusText(status) {
    if (status === "met") { return "Fits this trial"; }
    if (status === "not_met") { return "Does not fit this trial"; }
    return "";
  }

  function renderChecklist(section, checklist) {
    var verdict = checklist.verdict;
    var panel = section.querySelector("#verdict");
    if (panel) {
      panel.className = "verdict verdict-" + verdict.status;
      panel.setAttribute("data-verdict", verdict.status);
      panel.querySelector('[data-field="label"]').textContent = verdict.label;
      panel.querySelector('[data-field="explanation"]').textContent = verdict.explanation;
      var counts = verdict.counts || (verdict.answered + " of " + verdict.questions +
        " questions answered.");
      panel.querySelector('[data-field="counts"]').textContent = counts;
    }
    checklist.items.forEach(function (item) {
      var li = section.querySelector('[data-item="' + CSS.escape(item.id) + '"]');
      if (!li) { return; }
      li.setAttribute("data-status", item.status);
      var note = li.querySelector('[data-field="status"]');
      if (note) { note.textContent = statusText(item.status); }
      li.querySelectorAll('input[type="radio"]').forEach(function (radio) {
        radio.checked = item.answer !== null && radio.value === item.answer;
      });
    });
  }

  function showError(section, visible) {
    var error = section.querySelector("[data-live-error]");
    if (error) { error.hidden = !visible; }
  }

  function enhanceChecklist(form) {
    var section = form.closest("section") || document;
    var nct = form.getAttribute("data-nct");
    var url = "/api/v1/trials/" + encodeURIComponent(nct) + "/answers";
    form.classList.add("js-live");
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (!(input instanceof HTMLInputElement) || input.type !== "radio") { return; }
      var answers = {};
      answers[input.getAttribute("data-key")] = input.value;
      api("PUT", url, { answers: answers })
        .then(function (checklist) { showError(section, false); renderChecklist(section, checklist); })
        .catch(function () { showError(section, true); });
    });
    form.addEventListener("submit", function (event) {
      // Answers are already saved one by one; keep the no-JS button from reloading.
      event.preventDefault();
    });
    var clear = section.querySelector("form[data-clear-answers]");
    if (clear) {
      clear.addEventListener("submit", function (event) {
        event.preventDefault();
        api("DELETE", url)
          .then(function (checklist) {
            showError(section, false);
            renderChecklist(section, checklist);
          })
          .catch(function () { showError(section, true); });
      });
    }
  }

  function collapseFiltersOnNarrowScreens() {
    if (!window.matchMedia("(max-width: 63.99rem)").matches) { return; }
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (details) {
      details.open = false;
    });
  }

  // Sort and filter changes apply at once; the Apply buttons stay for pages without JS.
  function applyOnChange(form) {
    form.classList.add("auto-apply");
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("select, input[type=checkbox], input[type=radio]")) {
        form.submit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-checklist]").forEach(enhanceChecklist);
    document.querySelectorAll("form.search-form").forEach(applyOnChange);
    collapseFiltersOnNarrowScreens();
  });
})();
