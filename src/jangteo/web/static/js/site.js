// jangteo storefront: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // <div data-show-when="address_id=new"> is shown only while that radio/select has that value
  function syncConditional(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var form = block.closest("form");
      if (!form) return;
      var inputs = form.querySelectorAll('[name="' + rule[0] + '"]');
      if (!inputs.length) return;
      var value = null;
      inputs.forEach(function (input) {
        if (input.type === "radio") {
          if (input.checked) value = input.value;
        } else {
          value = input.value;
        }
      });
      block.hidden = value !== rule[1];
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (form) syncConditional(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncConditional(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    syncConditional(event.target.ownerDocument || document);
  });
})();
