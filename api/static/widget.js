/* 侨务助手 chat widget: embeddable with one <script src=".../widget.js"> tag. No framework.
 * Attributes: data-api (api origin; default: the script's origin), data-title, data-lang
 * (zh | en; default: the page's <html lang>). Styles come from widget.css next to this script
 * (no inline <style>, so host pages need no CSP hash).
 * All message text is inserted with textContent (never as HTML), so markup shows as text;
 * links in answers are <a> elements built from http(s) URLs only. */
(function () {
  "use strict";
  var script = document.currentScript;
  var apiBase = ((script && script.getAttribute("data-api")) || (script ? new URL(script.src).origin : "")).replace(/\/+$/, "");
  var pageLang = ((script && script.getAttribute("data-lang")) || document.documentElement.lang || "zh").toLowerCase();
  var lang = pageLang.indexOf("en") === 0 ? "en" : "zh";
  // Every text of the widget, in both languages: the api fills in the catalogue's `widget` section
  // (core/texts/zh.yml, en.yml) when it serves this file.
  var STR = /*QW_TEXTS*/null;
  var T = STR[lang];
  function fmt(text, values) { return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] != null ? values[k] : ""; }); }
  var title = (script && script.getAttribute("data-title")) || T.title;
  var STORAGE_KEY = "qiaowu-session";
  var OPEN_KEY = "qiaowu-open";
  var MAX_CHARS = 1000;
  var UNAVAILABLE = T.unavailable;

  function store(key, value) { try { if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* storage blocked */ } }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }

  // The session id is issued (and signed) by the api: POST /api/v1/sessions on the first message.
  // An id the api no longer accepts (401) is dropped, and the next message asks for a new one.
  function sessionId(fresh) {
    var id = fresh ? null : load(STORAGE_KEY);
    if (!id || !/^w[0-9a-f]{8}[A-Za-z0-9_-]{38}$/.test(id)) { store(STORAGE_KEY, null); return null; }
    return id;
  }
  var sid = sessionId();
  function dropSession() { sid = null; store(STORAGE_KEY, null); }
  function ensureSession() {
    if (sid) return Promise.resolve(sid);
    return fetch(apiBase + "/api/v1/sessions", { method: "POST", headers: { "Accept-Language": lang } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok || !body.session_id) throw { status: r.status, body: body };
        sid = body.session_id; store(STORAGE_KEY, sid);
        return sid;
      });
    });
  }


  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function button(text, cls) { var b = el("button", cls || null, text); b.type = "button"; return b; }

  function safeUrl(url) {
    try { var u = new URL(url); return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null; }
    catch (e) { return null; }
  }
  function link(text, url) {
    var a = el("a", null, text); a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer"; return a;
  }

  // Message text with its http(s) addresses as links (text nodes and <a> only, never HTML).
  var URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff08\uff09\uff0c\uff1b\uff1a\uff01\uff1f]+/g;
  function richText(cls, text) {
    var node = el("div", cls);
    var last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var raw = match[0].replace(/[.,;:!?)\]]+$/, "");
      var url = safeUrl(raw);
      if (!url) continue;
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      node.appendChild(link(raw, url));
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
    return node;
  }

  var sheet = el("link"); sheet.rel = "stylesheet"; sheet.href = apiBase + "/widget.css"; document.head.appendChild(sheet);
  var root = el("div", "qw-root"); root.setAttribute("lang", lang === "en" ? "en" : "zh-CN");
  var panel = el("div", "qw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", title); panel.id = "qw-panel";
  var head = el("div", "qw-head"); head.appendChild(el("strong", null, title));
  var human = button(T.human); human.className = "qw-human"; human.setAttribute("aria-label", T.humanLabel);
  var restart = button(T.restart); restart.className = "qw-restart"; restart.setAttribute("aria-label", T.restartLabel);
  var closeBtn = button("✕"); closeBtn.setAttribute("aria-label", T.close);
  head.appendChild(human); head.appendChild(restart); head.appendChild(closeBtn);
  var confirmBar = el("div", "qw-confirm"); confirmBar.hidden = true; confirmBar.setAttribute("role", "alertdialog"); confirmBar.id = "qw-confirm";
  var confirmText = el("p", null, T.confirm); confirmText.id = "qw-confirm-text"; confirmBar.setAttribute("aria-describedby", confirmText.id);
  var yes = button(T.yes, "qw-yes"), no = button(T.no, "qw-no");
  confirmBar.appendChild(confirmText); confirmBar.appendChild(yes); confirmBar.appendChild(no);
  // The log is not a live region itself: history would be read out at every load. New messages
  // are announced once through `announcer`.
  var log = el("div", "qw-log"); log.setAttribute("role", "log"); log.setAttribute("aria-live", "off"); log.setAttribute("aria-label", T.log); log.tabIndex = 0;
  var announcer = el("div", "qw-sr"); announcer.setAttribute("aria-live", "polite"); announcer.setAttribute("aria-atomic", "true");
  var form = el("form", "qw-form");
  var input = el("textarea"); input.rows = 2; input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.input);
  var send = el("button", null, T.send); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  var foot = el("div", "qw-foot");
  var typing = el("span", "qw-typing"); typing.setAttribute("aria-live", "polite");
  var counter = el("span", "qw-count", "0/" + MAX_CHARS);
  foot.appendChild(typing); foot.appendChild(counter);
  var privacy = el("div", "qw-privacy", T.privacy + " ");
  privacy.appendChild(link(T.privacyLink, apiBase + "/privacy?lang=" + lang));
  panel.appendChild(head); panel.appendChild(confirmBar); panel.appendChild(log); panel.appendChild(announcer);
  panel.appendChild(form); panel.appendChild(foot); panel.appendChild(privacy);
  var toggle = button("💬 " + title, "qw-toggle"); toggle.setAttribute("aria-expanded", "false"); toggle.setAttribute("aria-controls", "qw-panel");
  var badge = el("span", "qw-badge"); badge.hidden = true; badge.setAttribute("aria-hidden", "true");
  toggle.appendChild(badge);
  root.appendChild(panel); root.appendChild(toggle);
  document.body.appendChild(root);

  var unread = 0;
  function setUnread(n) {
    unread = n;
    badge.textContent = String(n);
    badge.hidden = !n;
    toggle.setAttribute("aria-label", title + (n ? "（" + fmt(T.unread, { n: n }) + "）" : ""));
  }
  function isOpen() { return root.classList.contains("qw-open"); }

  function setOpen(open) {
    root.classList.toggle("qw-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    store(OPEN_KEY, open ? "1" : null);
    if (open) { setUnread(0); startUpdates(); input.focus(); } else { confirmBar.hidden = true; toggle.focus(); }
  }
  toggle.addEventListener("click", function () { setOpen(!isOpen()); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    if (!confirmBar.hidden) { confirmBar.hidden = true; restart.focus(); } else setOpen(false);
  });

  // "New conversation": after a confirmation, forget this device's session and start afresh.
  restart.addEventListener("click", function () { confirmBar.hidden = false; no.focus(); });
  no.addEventListener("click", function () { confirmBar.hidden = true; restart.focus(); });
  yes.addEventListener("click", function () {
    confirmBar.hidden = true;
    stopUpdates();
    store(STORAGE_KEY, null);
    sid = sessionId(true);
    cursor = 0; seen = {};
    log.replaceChildren();
    setUnread(0);
    greet();
    input.focus();
  });

  function scroll() { log.scrollTop = log.scrollHeight; }
  function addUser(text) { var m = el("div", "qw-msg qw-user", text); m.setAttribute("data-role", "user"); log.appendChild(m); scroll(); }
  function announce(text) { if (text) announcer.textContent = text; }

  function options(list) {
    var box = el("div", "qw-opts");
    list.forEach(function (opt) {
      var b = button(opt.title);
      b.addEventListener("click", function () { submit(opt.title); });
      box.appendChild(b);
    });
    return box;
  }

  function rating(kbId) {
    var box = el("div", "qw-rate");
    box.appendChild(el("span", null, T.helpful));
    var up = button("👍"); up.setAttribute("aria-label", T.yesHelp);
    var down = button("👎"); down.setAttribute("aria-label", T.noHelp);
    function vote(helpful) {
      up.disabled = down.disabled = true;
      fetch(apiBase + "/api/v1/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: sid, kb_id: kbId, helpful: helpful })
      }).then(function (r) {
        box.replaceChildren(el("span", null, r.ok ? T.thanks : UNAVAILABLE));
      }).catch(function () { box.replaceChildren(el("span", null, UNAVAILABLE)); up.disabled = down.disabled = false; });
    }
    up.addEventListener("click", function () { vote(true); });
    down.addEventListener("click", function () { vote(false); });
    box.appendChild(up); box.appendChild(down);
    return box;
  }

  // 1–5 rating of the human service after a ticket was closed (once per ticket).
  function stars(ticket) {
    var box = el("div", "qw-stars");
    box.setAttribute("role", "group"); box.setAttribute("aria-label", T.rateAsk + " " + T.rateLow + "，" + T.rateHigh);
    var buttons = [1, 2, 3, 4, 5].map(function (n) {
      var b = button(String(n)); b.setAttribute("aria-label", fmt(T.rateLabel, { n: n }));
      b.addEventListener("click", function () {
        buttons.forEach(function (x) { x.disabled = true; });
        fetch(apiBase + "/api/v1/ratings", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ session_id: sid, ticket: ticket, score: n })
        }).then(function (r) {
          box.replaceChildren(el("span", null, r.ok || r.status === 409 ? T.rated : UNAVAILABLE));
          announce(r.ok || r.status === 409 ? T.rated : UNAVAILABLE);
        }).catch(function () { buttons.forEach(function (x) { x.disabled = false; }); });
      });
      box.appendChild(b);
      return b;
    });
    box.appendChild(el("span", null, T.rateLow + " · " + T.rateHigh));
    return box;
  }

  function sources(custom) {
    var meta = el("div", "qw-meta");
    meta.appendChild(document.createTextNode(T.sources));
    (custom.sources || []).forEach(function (s, i) {
      var url = safeUrl(s.url);
      if (i) meta.appendChild(document.createTextNode(T.sep));
      if (url) meta.appendChild(link(s.title, url));
      else meta.appendChild(document.createTextNode(s.title));
    });
    meta.appendChild(el("div", null, T.reviewed + (custom.last_reviewed || "")));
    return meta;
  }

  // One short line under an answer: the policy (or 待核实) note and the office contact.
  function footer(custom) {
    var line = el("div", "qw-footer", custom.footer);
    var url = custom.footer_url && safeUrl(custom.footer_url);
    if (url) {
      line.appendChild(link(custom.lang === "en" ? STR.en.website : STR.zh.website, url));
    }
    return line;
  }

  function card(lines) {
    var c = el("div", "qw-card");
    lines.forEach(function (line) { if (line[1] != null && line[1] !== "") c.appendChild(el("div", null, line[0] + T.colon + line[1])); });
    return c;
  }

  var STATES = { queued: T.queued, claimed: T.claimed, closed: T.closed };

  function addMessage(msg, role, live) {
    var custom = msg.custom || {};
    var cls = { user: "qw-user", staff: "qw-staff", system: "qw-system", error: "qw-error" }[role] || "qw-bot";
    if (role === "user") { addUser(msg.text || ""); return; }
    var box = el("div", "qw-msg " + cls);
    box.setAttribute("data-role", role);
    box.setAttribute("data-type", custom.type || "text");
    if (custom.kb_id) box.setAttribute("data-kb-id", custom.kb_id);
    if (role === "staff") box.appendChild(el("span", "qw-label", T.staff));
    // The rating question in the widget's own language (the text is for the other channels).
    var text = custom.type === "rating_request" ? T.rateAsk : msg.text;
    if (text) box.appendChild(richText("qw-text", text));
    if (custom.type === "kb_answer") {
      if (custom.footer) box.appendChild(footer(custom));
      box.appendChild(sources(custom));
      if (custom.options && custom.options.length) box.appendChild(options(custom.options));
      if (live && custom.kb_id) box.appendChild(rating(custom.kb_id));
    } else if (custom.type === "suggestions") {
      box.appendChild(options(custom.options || []));
    } else if (custom.type === "status") {
      box.appendChild(card([[T.reference, custom.reference], [T.kind, custom.kind], [T.state, custom.state], [T.updated, custom.updated_at], [T.next, custom.next_step]]));
    } else if (custom.type === "handoff") {
      box.appendChild(card([[T.ticket, custom.ticket && "#" + custom.ticket], [T.state, STATES[custom.state] || custom.state], [T.position, custom.state === "queued" && custom.position ? fmt(T.positionN, { n: custom.position }) : null]]));
    } else if (custom.type === "emergency") {
      box.appendChild(card([[T.hotline, custom.hotline || "12308"], [T.urgentTicket, custom.ticket && "#" + custom.ticket]]));
    } else if (custom.type === "status_denied" && custom.retry_after_s) {
      box.appendChild(card([[T.retry, fmt(T.minutes, { n: Math.ceil(custom.retry_after_s / 60) })]]));
    } else if (custom.type === "rating_request" && custom.ticket && live) {
      box.appendChild(stars(custom.ticket));
    }
    log.appendChild(box);
    scroll();
    if (live) announce((role === "staff" ? T.newStaff : "") + (text || ""));
  }

  var busy = false;
  function setBusy(on) { busy = on; send.disabled = on; typing.textContent = on ? T.typing : ""; }

  // The service did not take the message (503, rate limit, network): give it back to resend.
  function keepForResend(text) { if (!input.value) { input.value = text; updateCounter(); } }

  function submit(text) {
    text = (text || "").trim();
    if (!text || busy) return false;
    if (text.length > MAX_CHARS) { addMessage({ text: fmt(T.tooLong, { n: MAX_CHARS }) }, "error", true); return false; }
    addUser(text);
    setBusy(true);
    function deliverMessage(retried) {
      return ensureSession().then(function (id) {
        return fetch(apiBase + "/api/v1/messages", {
          method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": lang },
          body: JSON.stringify({ session_id: id, text: text, lang: lang })
        });
      }).then(function (r) {
        if (r.status === 401 && !retried) { dropSession(); return deliverMessage(true); }
        return r;
      }, function (refused) {
        if (refused && refused.status) return { ok: false, status: refused.status, json: function () { return Promise.resolve(refused.body || {}); } };
        throw refused;
      });
    }
    deliverMessage(false).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          addMessage({ text: (body.error && body.error.message) || UNAVAILABLE }, "error", true);
          if (r.status === 503 || r.status === 429) keepForResend(text);
          return;
        }
        (body.messages || []).forEach(function (m) { addMessage(m, "bot", true); });
        startUpdates();
      });
    }).catch(function () {
      addMessage({ text: UNAVAILABLE }, "error", true);
      keepForResend(text);
    }).then(function () { setBusy(false); });
    return true;
  }

  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n + "/" + MAX_CHARS;
    counter.classList.toggle("qw-over", n > MAX_CHARS);
    if (n > MAX_CHARS) counter.textContent += T.over;
  }
  input.addEventListener("input", updateCounter);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.value.trim().length > MAX_CHARS) { submit(input.value); return; }
    if (submit(input.value)) { input.value = ""; updateCounter(); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  human.addEventListener("click", function () { if (!isOpen()) setOpen(true); submit(STR.zh.human); });

  // Staff replies: server-sent events, or polling when the stream is not available. Each tab
  // reads with its own cursor (the newest outbox id it has), so every open tab of the
  // conversation gets every reply; ids already shown are skipped.
  var started = false, pollTimer = null, source = null, cursor = 0, seen = {};
  function deliver(item) {
    if (item.id) {
      if (seen[item.id]) return;
      seen[item.id] = true;
      if (item.id > cursor) cursor = item.id;
    }
    addMessage(item, item.role, true);
    if (!isOpen() && item.role === "staff") setUnread(unread + 1);
  }
  function poll() {
    if (!sid) return;
    fetch(apiBase + "/api/v1/conversations/" + sid + "/updates?after=" + cursor).then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (body) { (body.messages || []).forEach(deliver); }).catch(function () { /* try again */ });
  }
  function startPolling() { if (!pollTimer) { poll(); pollTimer = setInterval(poll, 1500); } }
  function stopUpdates() {
    if (source) { source.close(); source = null; }
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    started = false;
  }
  function startUpdates() {
    if (started || !sid) return;
    started = true;
    if (!window.EventSource) { startPolling(); return; }
    var failures = 0;
    source = new EventSource(apiBase + "/api/v1/conversations/" + sid + "/events?after=" + cursor);
    var mine = source;
    source.addEventListener("open", function () { failures = 0; });
    source.addEventListener("message", function (e) { try { deliver(JSON.parse(e.data)); } catch (err) { /* ignore */ } });
    source.addEventListener("error", function () {
      failures += 1;
      if (mine !== source) return;
      if (failures >= 3 || source.readyState === EventSource.CLOSED) { source.close(); source = null; startPolling(); }
    });
  }

  function greet() { addMessage({ text: fmt(T.greeting, { title: title }) }, "bot"); }

  function loadHistory() {
    if (!sid) { greet(); return Promise.resolve(); }
    return fetch(apiBase + "/api/v1/conversations/" + sid + "/messages").then(function (r) { if (r.status === 401) dropSession(); return r.ok ? r.json() : { messages: [] }; })
      .then(function (body) {
        var items = body.messages || [];
        cursor = body.cursor || 0;
        items.forEach(function (m) { if (m.id) seen[m.id] = true; addMessage(m, m.role, false); });
        if (!items.length) greet();
        else startUpdates();  // a conversation exists: listen for staff replies (unread badge)
      }).catch(function () { /* history is optional */ });
  }

  loadHistory().then(function () { if (load(OPEN_KEY)) setOpen(true); });
})();
