// Skip logic of the pre-screening form: FHIR enableWhen, the same rules the server applies.
// Hidden questions are disabled so their answers are not sent; without this script every
// question is shown and the server ignores answers to questions that do not apply.
(function () {
  "use strict";
  var form = document.querySelector("form.prescreen");
  if (!form) { return; }
  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));

  function answerOf(q) {
    var link = q.getAttribute("data-link");
    var type = q.getAttribute("data-type");
    if (type === "choice") {
      var checked = q.querySelector("input[type=radio]:checked");
      return checked ? checked.value : null;
    }
    var unknown = document.getElementById(link + ":unknown");
    if (unknown && unknown.checked) { return null; }
    var raw = (document.getElementById("field-" + link).value || "").trim().replace(",", ".");
    if (raw === "" || isNaN(Number(raw))) { return null; }
    if (type === "integer") { return parseInt(raw, 10); }
    var unit = document.getElementById(link + ":unit");
    return { value: Number(raw), unit: unit ? unit.value : "" };
  }

  function holds(cond, answer) {
    if (cond.op === "exists") { return (answer !== null && answer !== undefined) === cond.v; }
    if (answer === null || answer === undefined) { return false; }
    var a = answer, b = cond.v;
    if (typeof b === "object" || typeof a === "object") {
      if (typeof b !== "object" || typeof a !== "object" || a.unit !== b.unit) { return false; }
      a = a.value; b = b.value;
    }
    switch (cond.op) {
      case "=": return a === b;
      case "!=": return a !== b;
      case "<": return typeof a === "number" && a < b;
      case "<=": return typeof a === "number" && a <= b;
      case ">": return typeof a === "number" && a > b;
      case ">=": return typeof a === "number" && a >= b;
    }
    return false;
  }

  function setShown(q, shown) {
    q.hidden = !shown;
    var inputs = q.querySelectorAll("input, select");
    for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = !shown; }
  }

  function update() {
    var visible = {};
    questions.forEach(function (q) {
      var conds = JSON.parse(q.getAttribute("data-enable") || "[]");
      var all = q.getAttribute("data-behavior") !== "any";
      var ok = conds.length === 0 || (all
        ? conds.every(function (c) { return holds(c, visible[c.q]); })
        : conds.some(function (c) { return holds(c, visible[c.q]); }));
      setShown(q, ok);
      if (ok) { visible[q.getAttribute("data-link")] = answerOf(q); }
    });
    // A section with nothing to ask is hidden as a whole.
    Array.prototype.forEach.call(form.querySelectorAll(".qsection"), function (s) {
      s.hidden = s.querySelectorAll(".question:not([hidden])").length === 0;
    });
  }

  // "I don't know" empties and locks the number next to it.
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.id && /:unknown$/.test(t.id)) {
      var field = document.getElementById("field-" + t.id.replace(/:unknown$/, ""));
      if (field) { if (t.checked) { field.value = ""; } field.readOnly = t.checked; }
    }
    update();
  });
  form.addEventListener("input", update);
  update();
  var errors = document.getElementById("errors");
  if (errors) { errors.focus(); }
}());
