// Notes on a trial page: select text to attach a note to it, list and delete notes in place.
// Without this file the note form still posts and "My notes" lists everything. Text from
// the server is only ever set with textContent.
(function () {
  "use strict";

  var panel = document.querySelector("section#notes[data-nct]");
  if (!panel) { return; }
  var nct = panel.getAttribute("data-nct");
  var form = panel.querySelector("[data-note-form]");
  var list = panel.querySelector("[data-notes-list]");
  var preview = panel.querySelector("[data-quote-preview]");
  var clearButton = panel.querySelector("[data-clear-quote]");
  var MAX_QUOTE = 1000;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function api(method, url, body) {
    var init = { method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      var fresh = response.headers.get("X-CSRF-Token");
      if (fresh) {
        var meta = document.querySelector('meta[name="csrf-token"]');
        if (meta) { meta.setAttribute("content", fresh); }
        panel.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
          input.value = fresh;
        });
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.status === 204 ? null : response.json();
    });
  }

  function field(name) { return form.querySelector('[data-field="' + name + '"]'); }

  function setQuote(quote, section, start, end) {
    field("quote").value = quote || "";
    field("anchor_section").value = section || "";
    field("anchor_start").value = quote ? String(start) : "";
    field("anchor_end").value = quote ? String(end) : "";
    preview.textContent = quote || "";
    preview.hidden = !quote;
    clearButton.hidden = !quote;
  }

  function render(notes) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    notes.forEach(function (note) {
      var li = document.createElement("li");
      li.className = "note";
      li.setAttribute("data-note", String(note.id));
      if (note.quote) {
        var quote = document.createElement("blockquote");
        quote.className = "note-quote";
        quote.textContent = note.quote;
        li.appendChild(quote);
      }
      if (note.anchor && document.getElementById(note.anchor.section)) {
        var where = document.createElement("a");
        where.href = "#" + note.anchor.section;
        where.className = "hint";
        where.textContent = "Show where on the page";
        li.appendChild(where);
      }
      var body = document.createElement("p");
      body.className = "note-body";
      body.textContent = note.body;
      li.appendChild(body);
      var actions = document.createElement("p");
      actions.className = "note-actions";
      var edit = document.createElement("a");
      edit.href = "/notes/" + note.id;
      edit.textContent = "Edit";
      actions.appendChild(edit);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button danger";
      remove.textContent = "Delete";
      remove.addEventListener("click", function () {
        api("DELETE", "/api/v1/notes/" + note.id).then(load);
      });
      actions.appendChild(remove);
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  function load() {
    return api("GET", "/api/v1/trials/" + encodeURIComponent(nct) + "/notes")
      .then(function (data) { render(data.items); })
      .catch(function () { /* the "All my notes" link still works */ });
  }

  function onSelection() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) { return; }
    var range = selection.getRangeAt(0);
    var start = range.startContainer.nodeType === 1 ? range.startContainer
      : range.startContainer.parentElement;
    if (!start || panel.contains(start)) { return; }
    var section = start.closest("article.trial section[id], article.trial header");
    if (!section) { return; }
    var text = selection.toString().trim();
    if (!text) { return; }
    if (text.length > MAX_QUOTE) { text = text.slice(0, MAX_QUOTE); }
    var before = document.createRange();
    before.setStart(section, 0);
    before.setEnd(range.startContainer, range.startOffset);
    var offset = before.toString().length;
    var name = section.id || "trial-title";
    setQuote(text, name, offset, offset + selection.toString().length);
  }

  var pending = null;
  document.addEventListener("selectionchange", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(onSelection, 150);
  });
  clearButton.addEventListener("click", function () { setQuote("", "", 0, 0); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { body: form.querySelector("textarea").value };
    if (field("quote").value) {
      body.quote = field("quote").value;
      body.anchor = { section: field("anchor_section").value,
        start: parseInt(field("anchor_start").value, 10),
        end: parseInt(field("anchor_end").value, 10) };
    }
    api("POST", "/api/v1/trials/" + encodeURIComponent(nct) + "/notes", body)
      .then(function () {
        form.querySelector("textarea").value = "";
        var selection = window.getSelection();
        if (selection) { selection.removeAllRanges(); }
        setQuote("", "", 0, 0);
        return load();
      })
      .catch(function () { form.submit(); });
  });

  load();
}());
