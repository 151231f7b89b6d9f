/* Behaviour the staff pages ask for with data- attributes. The Content-Security-Policy
   forbids inline handlers (onchange="...", onclick="..."), so they live here:
     <select data-autosubmit>         submits its form when changed
     <input type=checkbox data-check-all="selector">  ticks or unticks every box matching
     <form data-confirm="question">    asks before submitting */
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
