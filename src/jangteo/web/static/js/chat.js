// A chat room, live: the room's WebSocket appends messages as they are posted and carries what
// the member sends. Without this file the page still shows the history and sends by its form.
(function () {
  "use strict";

  var MAX_RETRIES = 8;
  var MAX_DELAY_MS = 30000;
  // the socket's close codes after which trying again cannot help (no access, no such room)
  var FINAL_CLOSE_CODES = [4403, 4404];

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  // the server's format: "2026.11.25 00:30" in Korean, "Nov 25, 2026 00:30" in English
  function seoulTime(iso, lang) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Seoul",
      year: "numeric",
      month: lang === "ko" ? "2-digit" : "short",
      day: lang === "ko" ? "2-digit" : "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(date)
      .forEach(function (part) {
        parts[part.type] = part.value;
      });
    var clock = parts.hour + ":" + parts.minute;
    if (lang === "ko") return parts.year + "." + parts.month + "." + parts.day + " " + clock;
    return parts.month + " " + parts.day + ", " + parts.year + " " + clock;
  }

  function setup(chat) {
    var log = chat.querySelector("#chat-log");
    var pattern = chat.querySelector("#chat-message-template");
    var form = chat.querySelector("#chat-form");
    var status = chat.querySelector("#chat-status");
    var error = chat.querySelector("#chat-error");
    var field = form ? form.querySelector('textarea[name="body"]') : null;
    var roomPath = chat.getAttribute("data-room");
    var socketPath = chat.getAttribute("data-socket");
    var tokenUrl = chat.getAttribute("data-token-url");
    var lang = chat.getAttribute("data-lang") || "ko";
    if (!log) return;
    log.scrollTop = log.scrollHeight;
    if (!pattern || !tokenUrl || !socketPath || !("WebSocket" in window)) return;

    var socket = null;
    var retries = 0;
    var pending = "";

    function say(text) {
      if (!status) return;
      status.textContent = text || "";
      status.hidden = !text;
    }

    function showError(text) {
      if (!error) return;
      error.textContent = text || "";
      error.hidden = !text;
      if (field) {
        if (text) field.setAttribute("aria-invalid", "true");
        else field.removeAttribute("aria-invalid");
      }
    }

    function markDeleted(item) {
      item.classList.add("chat-deleted");
      var body = item.querySelector(".chat-body");
      if (body) {
        body.textContent = chat.getAttribute("data-text-deleted") || "";
        body.classList.add("muted");
      }
      var remove = item.querySelector("form.chat-delete");
      if (remove) remove.remove();
    }

    function append(message) {
      if (!message || !message.id || document.getElementById("m-" + message.id)) return;
      var item = pattern.content.firstElementChild.cloneNode(true);
      item.id = "m-" + message.id;
      item.setAttribute("data-message-id", message.id);
      var author = item.querySelector(".chat-author");
      author.textContent = message.nickname || "";
      author.setAttribute("href", "/community/u/" + encodeURIComponent(message.member_id));
      var time = item.querySelector("time");
      time.setAttribute("datetime", message.created_at || "");
      time.textContent = seoulTime(message.created_at, lang);
      item.querySelector(".chat-body").textContent = message.body || "";
      var remove = item.querySelector("form.chat-delete");
      if (remove) {
        remove.setAttribute("action", roomPath + "/messages/" + message.id + "/delete");
      }
      if (message.status === "deleted") markDeleted(item);
      var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      log.appendChild(item);
      var empty = document.getElementById("chat-empty");
      if (empty) empty.remove();
      if (atEnd) log.scrollTop = log.scrollHeight;
    }

    function receive(event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (parseError) {
        return;
      }
      if (data.type === "hello") {
        // what was posted between the page's rendering and the socket's opening
        (data.recent || []).forEach(append);
      } else if (data.type === "message") {
        append(data.message);
        if (data.message && data.message.body === pending.trim()) pending = "";
      } else if (data.type === "deleted") {
        var item = document.getElementById("m-" + data.message_id);
        if (item) markDeleted(item);
      } else if (data.type === "error") {
        var problem = data.problem || {};
        var text = problem.title || "";
        if (problem.detail && problem.detail !== problem.title) text += " " + problem.detail;
        showError(text);
        // the message was not sent: give it back to the member
        if (field && pending && !field.value) field.value = pending;
        pending = "";
      }
    }

    function retryLater() {
      if (retries >= MAX_RETRIES) {
        say("");
        return;
      }
      say(chat.getAttribute("data-text-offline"));
      var delay = Math.min(MAX_DELAY_MS, 1000 * Math.pow(2, retries));
      retries += 1;
      window.setTimeout(connect, delay);
    }

    function open(token) {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var url =
        scheme +
        window.location.host +
        socketPath +
        "?access_token=" +
        encodeURIComponent(token) +
        "&lang=" +
        encodeURIComponent(lang);
      socket = new WebSocket(url);
      socket.addEventListener("open", function () {
        retries = 0;
        say(chat.getAttribute("data-text-live"));
      });
      socket.addEventListener("message", receive);
      socket.addEventListener("close", function (event) {
        socket = null;
        if (FINAL_CLOSE_CODES.indexOf(event.code) !== -1) {
          say("");
          return;
        }
        // 4401 (the token expired) too: connect() asks for a fresh one
        retryLater();
      });
    }

    function connect() {
      fetch(tokenUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      })
        .then(function (response) {
          if (response.status === 401 || response.status === 403 || response.status === 404) {
            return null;
          }
          if (!response.ok) throw new Error("socket token: " + response.status);
          return response.json();
        })
        .then(function (body) {
          if (body && body.access_token) open(body.access_token);
        })
        .catch(retryLater);
    }

    if (form && field) {
      form.addEventListener("submit", function (event) {
        // without an open socket the form posts as usual
        if (!socket || socket.readyState !== WebSocket.OPEN) return;
        event.preventDefault();
        showError("");
        pending = field.value;
        socket.send(JSON.stringify({ type: "message", body: field.value }));
        field.value = "";
        field.focus();
      });
      field.addEventListener("keydown", function (event) {
        // Enter sends, Shift+Enter starts a new line; not while a Korean syllable is composed
        if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      });
    }
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chat]").forEach(setup);
  });
})();
