/* OpenApp: a few behaviours driven by data attributes (see ui.py). */
(function () {
  "use strict";

  // data-confirm on a form: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  // data-autosubmit (checkboxes, selects): a change submits the form.
  // data-sort (select): a change reloads the page with ?sort=<value>.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute("data-autosubmit") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    } else if (el.hasAttribute("data-sort")) {
      var url = new URL(window.location.href);
      url.searchParams.set("sort", el.value);
      window.location.href = url.pathname + url.search;
    }
  });

  // data-reveal="ID" on a link: show the hidden element ID instead of navigating.
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-reveal]");
    if (!trigger) { return; }
    var target = document.getElementById(trigger.getAttribute("data-reveal"));
    if (!target) { return; }
    event.preventDefault();
    target.hidden = false;
    trigger.setAttribute("aria-expanded", "true");
    var field = target.querySelector("textarea, input");
    if (field) { field.focus(); }
  });
})();
