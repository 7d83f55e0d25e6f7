// jangteo share sheet: the Share button opens a sheet instead of the share page; each option
// asks the page /share for the member's link of its channel (so the channel is recorded), then
// hands it to the Web Share API or the clipboard. Without this file the button opens /share.
(function () {
  "use strict";
  if (window.jangteoShare) return; // one copy, however many share buttons a page has
  window.jangteoShare = true;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  function makeLink(box, channel) {
    var made = box.jtLinks || (box.jtLinks = {});
    if (made[channel]) return Promise.resolve(made[channel]);
    var body = new URLSearchParams();
    body.set("target_type", box.getAttribute("data-target-type"));
    body.set("target_id", box.getAttribute("data-target-id"));
    body.set("channel", channel);
    return fetch("/share", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      body: body,
    })
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (!response.ok || type.indexOf("application/json") === -1) throw new Error("no link");
        return response.json();
      })
      .then(function (answer) {
        made[channel] = answer.url;
        return answer.url;
      });
  }

  function show(sheet, url, message) {
    var holder = sheet.querySelector(".share-made");
    var input = sheet.querySelector(".share-url");
    if (holder && input) {
      input.value = url;
      holder.hidden = false;
    }
    sheet.querySelector(".share-status").textContent = message || "";
  }

  function copy(sheet, url, message) {
    var fallback = function () {
      show(sheet, url, sheet.getAttribute("data-copy-failed"));
      var input = sheet.querySelector(".share-url");
      if (input) {
        input.focus();
        input.select();
      }
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(url).then(function () {
      show(sheet, url, message);
    }, fallback);
  }

  function nativeShare(box, sheet, url, fallbackMessage) {
    navigator
      .share({ title: box.getAttribute("data-title") || document.title, url: url })
      .then(
        function () {
          sheet.close();
        },
        function (error) {
          if (error && error.name === "AbortError") return; // the member closed the picker
          copy(sheet, url, fallbackMessage);
        }
      );
  }

  function choose(box, sheet, button) {
    var channel = button.getAttribute("data-channel");
    var action = button.getAttribute("data-action");
    button.disabled = true;
    makeLink(box, channel)
      .then(
        function (url) {
          var canShare = typeof navigator.share === "function";
          if (action === "native" && canShare) {
            nativeShare(box, sheet, url, sheet.getAttribute("data-copied"));
          } else if (action === "kakao" && canShare) {
            // no Kakao SDK: the system share sheet lists KakaoTalk where it is installed
            nativeShare(box, sheet, url, sheet.getAttribute("data-kakao-copied"));
          } else if (action === "kakao") {
            copy(sheet, url, sheet.getAttribute("data-kakao-copied"));
          } else {
            copy(sheet, url, sheet.getAttribute("data-copied"));
          }
        },
        function () {
          show(sheet, "", sheet.getAttribute("data-failed"));
          var holder = sheet.querySelector(".share-made");
          if (holder) holder.hidden = true;
        }
      )
      .then(function () {
        button.disabled = false;
      });
  }

  function enhance(box) {
    var opener = box.querySelector(".share-open");
    var sheet = box.querySelector("dialog.share-sheet");
    if (!opener || !sheet || typeof sheet.showModal !== "function") return;
    box.setAttribute("data-share-ready", "");
    if (typeof navigator.share === "function") {
      var native = sheet.querySelector("[data-share-native]");
      if (native) native.hidden = false;
    }
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      sheet.showModal();
    });
    sheet.addEventListener("click", function (event) {
      if (event.target === sheet) sheet.close(); // a click on the backdrop
      var button = event.target.closest && event.target.closest("button[data-channel]");
      if (button) choose(box, sheet, button);
      if (event.target.closest && event.target.closest(".share-close")) sheet.close();
    });
  }

  function enhanceAll(root) {
    root.querySelectorAll("[data-share]:not([data-share-ready])").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhanceAll(document);
    });
  } else {
    enhanceAll(document);
  }
  document.addEventListener("htmx:afterSettle", function () {
    enhanceAll(document);
  });
})();
