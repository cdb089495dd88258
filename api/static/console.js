/* 侨务助手 staff console: live queue and ticket, alerts for new and urgent tickets, inserting
 * KB answers and saved replies into the reply box. No framework, no inline script (CSP).
 * Fragments come from the console itself (server-rendered, autoescaped) and are parsed with
 * DOMParser; text from JSON is inserted with textContent only. */
(function () {
  "use strict";
  var body = document.body;
  var liveUrl = body.getAttribute("data-live");
  if (!liveUrl) return;
  var KNOWN_KEY = "qw-console-known";
  var ALERTS_KEY = "qw-console-alerts";
  var pollMs = 3000;
  var labels = { "new": "New ticket", urgent: "Urgent ticket", escalated: "Escalated", on: "On" };
  var alertBox = document.getElementById("live-alert");
  var enableBtn = document.getElementById("enable-alerts");
  var audio = null;

  function read(key, store) { try { return store.getItem(key); } catch (e) { return null; } }
  function write(key, value, store) { try { store.setItem(key, value); } catch (e) { /* blocked */ } }
  function alertsOn() { return read(ALERTS_KEY, localStorage) === "1"; }

  // --- sound: a short Web Audio beep (no audio file); browsers allow it after a user gesture.
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  function beep(times) {
    body.setAttribute("data-beeps", String(Number(body.getAttribute("data-beeps") || 0) + 1));
    if (!alertsOn()) return;
    var ctx = audioContext();
    if (!ctx) return;
    for (var i = 0; i < times; i++) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      var start = ctx.currentTime + i * 0.3;
      osc.type = "sine"; osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.22);
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(start); osc.stop(start + 0.25);
    }
  }
  function showEnabled() {
    if (!enableBtn) return;
    enableBtn.setAttribute("aria-pressed", alertsOn() ? "true" : "false");
  }
  if (enableBtn) {
    enableBtn.addEventListener("click", function () {
      var on = !alertsOn();
      write(ALERTS_KEY, on ? "1" : "0", localStorage);
      if (on) {
        audioContext();
        if (window.Notification && Notification.permission === "default") Notification.requestPermission();
      }
      showEnabled();
    });
    showEnabled();
  }
  document.addEventListener("click", function () { if (alertsOn()) audioContext(); }, { once: true });

  function notify(text, ticketId) {
    if (!alertsOn() || !window.Notification || Notification.permission !== "granted") return;
    try {
      var n = new Notification(text, { tag: "qw-ticket-" + ticketId, body: "#" + ticketId });
      n.onclick = function () { window.focus(); location.href = "/console/tickets/" + ticketId; };
    } catch (e) { /* some browsers only allow notifications from a service worker */ }
  }

  function raise(kind, ticket) {
    var text = labels[kind] + " #" + ticket.id;
    if (alertBox) {
      var line = document.createElement("p");
      var link = document.createElement("a");
      link.href = "/console/tickets/" + ticket.id;
      link.textContent = text;
      line.appendChild(link);
      if (kind !== "new") line.className = "urgent";
      alertBox.appendChild(line);
      while (alertBox.children.length > 3) alertBox.removeChild(alertBox.firstChild);
      alertBox.hidden = false;
      alertBox.setAttribute("data-alerts", String(Number(alertBox.getAttribute("data-alerts") || 0) + 1));
    }
    beep(kind === "new" ? 1 : 3);
    notify(text, ticket.id);
  }

  // --- what is open: alert on tickets not seen before in this tab session, or newly urgent.
  function check(tickets) {
    var stored = read(KNOWN_KEY, sessionStorage);
    var known = stored ? JSON.parse(stored) : null;
    var next = {};
    tickets.forEach(function (t) {
      next[t.id] = t.priority;
      if (!known) return;  // first look in this tab: the baseline, no alert
      if (!(t.id in known)) raise(t.priority === "urgent" ? "urgent" : "new", t);
      else if (t.priority === "urgent" && known[t.id] !== "urgent") raise("escalated", t);
    });
    write(KNOWN_KEY, JSON.stringify(next), sessionStorage);
    var count = document.getElementById("open-count");
    if (count) count.textContent = tickets.length ? "(" + tickets.length + ")" : "";
  }

  // --- fragments: replace a live region when the server's version differs.
  function refresh(node) {
    var src = node.getAttribute("data-live-src");
    return fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
      if (r.redirected || !r.ok) return;
      return r.text().then(function (html) {
        if (node.getAttribute("data-html") === html) return;
        node.setAttribute("data-html", html);
        var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
        var fresh = doc.body.firstChild;
        // Keep the keyboard focus on the same link or control across the swap.
        var active = document.activeElement, key = null;
        if (active && node.contains(active)) key = active.getAttribute("href") || active.id || null;
        node.replaceChildren.apply(node, Array.prototype.slice.call(fresh.childNodes));
        if (key) {
          var again = Array.prototype.find.call(node.querySelectorAll("[href],[id]"), function (n) {
            return n.getAttribute("href") === key || n.id === key;
          });
          if (again) again.focus();
        }
        var marker = node.querySelector("[data-ticket-state]");
        var changed = document.getElementById("state-changed");
        if (marker && changed && marker.getAttribute("data-ticket-state") !== node.getAttribute("data-state")) changed.hidden = false;
      });
    }).catch(function () { /* try again next round */ });
  }

  function poll() {
    fetch(liveUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (r.redirected || !r.ok) return null;
      return r.json();
    }).then(function (data) {
      if (!data) return;
      if (data.labels) labels = data.labels;
      if (data.poll_s) pollMs = Math.max(1000, data.poll_s * 1000);
      check(data.tickets || []);
    }).catch(function () { /* offline for a moment */ }).then(function () {
      var live = document.querySelectorAll("[data-live-src]");
      return Promise.all(Array.prototype.map.call(live, refresh));
    }).then(function () { setTimeout(poll, pollMs); });
  }
  document.querySelectorAll("[data-live-src]").forEach(function (node) { node.setAttribute("data-html", ""); });
  poll();

  // --- the reply box: insert a KB answer or a saved reply at the cursor.
  var reply = document.getElementById("reply-text");
  function insert(text) {
    if (!reply) return;
    var start = reply.selectionStart || 0, end = reply.selectionEnd || 0;
    var before = reply.value.slice(0, start);
    var glue = before && !/\n$/.test(before) ? "\n" : "";
    reply.setRangeText(glue + text, start, end, "end");
    reply.dispatchEvent(new Event("input", { bubbles: true }));
    reply.focus();
  }
  var kbForm = document.getElementById("kb-search");
  var results = document.getElementById("kb-results");
  if (kbForm && results) {
    kbForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = document.getElementById("kb-q").value.trim();
      if (!q) return;
      var lang = body.getAttribute("data-lang") === "en" ? "en" : "zh";
      fetch("/console/kb/search?q=" + encodeURIComponent(q) + "&lang=" + lang, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          results.replaceChildren();
          if (!data.results.length) {
            var none = document.createElement("li"); none.className = "empty";
            none.textContent = results.getAttribute("data-empty"); results.appendChild(none); return;
          }
          data.results.forEach(function (hit) {
            var li = document.createElement("li");
            li.setAttribute("data-kb-id", hit.kb_id);
            var title = document.createElement("strong"); title.textContent = hit.title;
            var text = document.createElement("p"); text.className = "preview"; text.textContent = hit.text;
            var btn = document.createElement("button"); btn.type = "button";
            btn.textContent = results.getAttribute("data-insert-label");
            btn.setAttribute("aria-label", btn.textContent + "：" + hit.title);
            btn.addEventListener("click", function () { insert(hit.text); });
            li.appendChild(title); li.appendChild(text); li.appendChild(btn);
            results.appendChild(li);
          });
        });
    });
  }
  var savedBtn = document.getElementById("insert-saved");
  var saved = document.getElementById("saved-reply");
  if (savedBtn && saved) {
    savedBtn.addEventListener("click", function () {
      var opt = saved.options[saved.selectedIndex];
      if (opt && opt.value) insert(opt.getAttribute("data-text"));
    });
  }
  // Every handler above is bound: a form submitted before this would leave the page (the KB
  // search answers JSON to a plain GET); browser tests wait for this mark.
  body.setAttribute("data-js", "ready");
})();
