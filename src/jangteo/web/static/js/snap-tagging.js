// The snap composer's tagging by pointer: search products without leaving the page, click on
// the photo to place the chosen product there. Without this file the same form works by
// typing the position and pressing the buttons.
(function () {
  "use strict";

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = String(value);
    return input;
  }

  function setup(form) {
    var results = form.querySelector("#tag-results");
    var list = form.querySelector("#tag-list");
    var status = form.querySelector("#tag-status");
    var query = form.querySelector('input[name="q"]');
    if (!results || !list || !query) return;

    function say(text) {
      if (status) status.textContent = text;
    }

    function search(event) {
      event.preventDefault();
      var q = query.value.trim();
      if (!q) return;
      fetch("/api/v1/products?limit=8&q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { items: [] };
        })
        .then(function (page) {
          results.textContent = "";
          if (!page.items.length) {
            var none = document.createElement("li");
            none.className = "muted";
            none.textContent = form.dataset.textNone;
            results.appendChild(none);
            return;
          }
          page.items.forEach(function (product) {
            var item = document.createElement("li");
            var label = document.createElement("label");
            var radio = document.createElement("input");
            radio.type = "radio";
            radio.name = "new_product";
            radio.value = product.id;
            radio.dataset.name = product.name;
            label.appendChild(radio);
            label.appendChild(document.createTextNode(" " + product.name));
            item.appendChild(label);
            item.appendChild(hidden("name_" + product.id, product.name));
            results.appendChild(item);
          });
        });
    }

    form.querySelectorAll('button[value="search"]').forEach(function (button) {
      button.addEventListener("click", search);
    });
    query.addEventListener("keydown", function (event) {
      if (event.key === "Enter") search(event);
    });

    form.querySelectorAll(".snap-tagger").forEach(function (frame) {
      var image = frame.querySelector("img");
      if (!image) return;
      frame.classList.add("snap-tagger-active");
      image.addEventListener("click", function (event) {
        var chosen = form.querySelector('input[name="new_product"]:checked');
        if (!chosen) {
          say(form.dataset.textPick);
          return;
        }
        var box = image.getBoundingClientRect();
        var x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
        var y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
        x = Math.round(x * 1000) / 1000;
        y = Math.round(y * 1000) / 1000;
        var name = chosen.dataset.name || chosen.value;

        var marker = document.createElement("span");
        marker.className = "snap-marker";
        marker.style.left = x * 100 + "%";
        marker.style.top = y * 100 + "%";
        marker.title = name;
        frame.appendChild(marker);

        var item = document.createElement("li");
        item.setAttribute("data-tag", "");
        [
          ["tag_image", frame.dataset.image],
          ["tag_product", chosen.value],
          ["tag_name", name],
          ["tag_x", x],
          ["tag_y", y],
        ].forEach(function (pair) {
          item.appendChild(hidden(pair[0], pair[1]));
        });
        var text = document.createElement("span");
        text.textContent = name + " (" + x.toFixed(2) + ", " + y.toFixed(2) + ")";
        item.appendChild(text);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button-link";
        remove.textContent = form.dataset.textRemove;
        remove.addEventListener("click", function () {
          item.remove();
          marker.remove();
        });
        item.appendChild(remove);
        list.appendChild(item);

        chosen.checked = false;
        say(form.dataset.textAdded.replace("{name}", name));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-snap-tagger]").forEach(setup);
  });
})();
