/* Behaviour the staff pages ask for with data- attributes. The Content-Security-Policy
   forbids inline handlers (onchange="...", onclick="..."), so they live here:
     <select data-autosubmit>         submits its form when changed
     <input type=checkbox data-check-all="selector">  ticks or unticks every box matching
     <form data-confirm="question">    asks before submitting
     <button data-copy="selector" data-done="label">  copies the input's text
     <button data-print>               prints the page */
"use strict";
document.addEventListener("change", function (event) {
  var el = event.target;
  if (!(el instanceof Element)) { return; }
  if (el.hasAttribute("data-autosubmit") && el.form) { el.form.submit(); }
  var selector = el.getAttribute("data-check-all");
  if (selector) {
    document.querySelectorAll(selector).forEach(function (box) { box.checked = el.checked; });
  }
});
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
}, true);
document.addEventListener("click", function (event) {
  var el = event.target instanceof Element ? event.target.closest("[data-copy], [data-print]") : null;
  if (!el) { return; }
  if (el.hasAttribute("data-print")) { window.print(); return; }
  var input = document.querySelector(el.getAttribute("data-copy"));
  if (!input) { return; }
  var done = function () { if (el.dataset.done) { el.textContent = el.dataset.done; } };
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
  } else { document.execCommand("copy"); done(); }
});
