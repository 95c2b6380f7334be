// The rule editor's live preview: posts the form's segment, q and assign to the admin's
// preview view (what POST .../rule/preview answers) and shows the count and the diff.
(function () {
  "use strict";
  // The fields of the form holding the preview (the rule's page, or the rule editor on
  // the segment's page, a form of its own next to the segment's).
  let scope = document;
  function field(name) { return scope.querySelector("[name=" + name + "]"); }
  function cell(row, text) { const td = document.createElement("td"); td.textContent = text || ""; row.appendChild(td); }
  function start() {
    const box = document.getElementById("rule-preview");
    if (!box) { return; }
    scope = box.closest("form") || document;
    const q = field("q"), assign = field("assign"), segment = field("segment");
    const csrf = field("csrfmiddlewaretoken");
    let timer = null, seq = 0;
    function render(body) {
      document.getElementById("rule-preview-count").textContent = body.count;
      document.getElementById("rule-preview-added").textContent = body.added.count;
      document.getElementById("rule-preview-removed").textContent = body.removed.count;
      const tbody = document.querySelector("#rule-preview-diff tbody");
      tbody.replaceChildren();
      [["+ add", body.added.sample], ["− remove", body.removed.sample]].forEach(function (part) {
        part[1].forEach(function (c) {
          const row = document.createElement("tr");
          cell(row, part[0]); cell(row, c.id); cell(row, (c.firstName + " " + c.lastName).trim());
          cell(row, c.email); cell(row, c.legalEntityId);
          tbody.appendChild(row);
        });
      });
    }
    function run() {
      const mine = ++seq;
      const data = new FormData();
      data.append("q", q.value);
      data.append("assign", assign ? assign.value : "B2C");
      data.append("segment", segment ? segment.value : box.dataset.segment);
      const status = document.getElementById("rule-preview-status");
      status.textContent = "Previewing…";
      fetch(box.dataset.url, { method: "POST", body: data, headers: { "X-CSRFToken": csrf.value } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (mine !== seq) { return; }
          if (body.error) { status.textContent = body.error; return; }
          status.textContent = "Preview of this rule against today's members (nothing saved yet):";
          render(body);
        });
    }
    function soon() { clearTimeout(timer); timer = setTimeout(run, 300); }
    [q, assign, segment].forEach(function (el) { if (el) { el.addEventListener("input", soon); el.addEventListener("change", soon); } });
    if (q.value) { run(); }
  }
  document.addEventListener("DOMContentLoaded", start);
})();
