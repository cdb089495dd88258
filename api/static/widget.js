/* 侨务助手 chat widget: embeddable with one <script src=".../widget.js"> tag. No framework.
 * Attributes: data-api (api origin; default: the script's origin), data-title.
 * All message text is inserted with textContent (never as HTML), so markup shows as text. */
(function () {
  "use strict";
  var script = document.currentScript;
  var apiBase = ((script && script.getAttribute("data-api")) || (script ? new URL(script.src).origin : "")).replace(/\/+$/, "");
  var title = (script && script.getAttribute("data-title")) || "侨务助手";
  var STORAGE_KEY = "qiaowu-session";
  var OPEN_KEY = "qiaowu-open";
  var MAX_CHARS = 1000;
  var UNAVAILABLE = "服务暂时不可用，请稍后再试";

  function store(key, value) { try { if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* storage blocked */ } }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }

  function sessionId() {
    var id = load(STORAGE_KEY);
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, "");
      store(STORAGE_KEY, id);
    }
    return id;
  }
  var sid = sessionId();

  var css = [
    ".qw-root{position:fixed;right:16px;bottom:16px;z-index:2147483000;font:15px/1.5 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1f2933}",
    ".qw-root *{box-sizing:border-box}",
    ".qw-toggle{background:#b71c1c;color:#fff;border:0;border-radius:24px;padding:10px 18px;font-size:15px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25);float:right}",
    ".qw-panel{display:none;flex-direction:column;width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 96px));background:#fff;border:1px solid #d0d5dd;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.2);overflow:hidden;margin-bottom:8px}",
    ".qw-open .qw-panel{display:flex}",
    ".qw-head{background:#b71c1c;color:#fff;padding:8px 10px;display:flex;gap:6px;justify-content:space-between;align-items:center}",
    ".qw-head strong{flex:1}",
    ".qw-head button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.7);border-radius:4px;cursor:pointer;padding:2px 8px;font:inherit;font-size:14px}",
    ".qw-log{flex:1;overflow-y:auto;padding:10px;background:#f7f7f8}",
    ".qw-msg{margin:6px 0;padding:8px 10px;border-radius:8px;max-width:90%;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".qw-user{background:#dbeafe;margin-left:auto}",
    ".qw-bot{background:#fff;border:1px solid #e4e7ec}",
    ".qw-staff{background:#dcfce7;border:1px solid #86efac}",
    ".qw-system{background:#ede9fe;border:1px solid #c4b5fd;font-size:14px}",
    ".qw-error{background:#fff4e5;border:1px solid #f5b971}",
    ".qw-label{font-size:12px;color:#52606d;display:block}",
    ".qw-meta{font-size:12px;color:#52606d;margin-top:6px}",
    ".qw-meta a{color:#1d4ed8}",
    ".qw-opts{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".qw-opts button,.qw-rate button{border:1px solid #b71c1c;color:#b71c1c;background:#fff;border-radius:14px;padding:2px 10px;cursor:pointer;font:inherit;font-size:13px;text-align:left}",
    ".qw-rate{display:flex;gap:6px;align-items:center;margin-top:6px;font-size:12px;color:#52606d}",
    ".qw-rate button{border-color:#c5ccd6;color:#1f2933}",
    ".qw-form{display:flex;border-top:1px solid #e4e7ec}",
    ".qw-form textarea{flex:1;border:0;padding:10px;resize:none;font:inherit;min-height:48px}",
    ".qw-form button{border:0;background:#b71c1c;color:#fff;padding:0 16px;cursor:pointer;font:inherit}",
    ".qw-foot{display:flex;justify-content:space-between;font-size:12px;color:#52606d;padding:2px 10px 4px;min-height:20px}",
    ".qw-over{color:#b91c1c}",
    ".qw-card{border-left:3px solid #b71c1c;padding-left:8px;margin-top:6px}",
    ".qw-root button:focus-visible,.qw-root textarea:focus-visible,.qw-root a:focus-visible{outline:3px solid #f59e0b;outline-offset:1px}"
  ].join("\n");

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

  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var root = el("div", "qw-root");
  var panel = el("div", "qw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", title); panel.id = "qw-panel";
  var head = el("div", "qw-head"); head.appendChild(el("strong", null, title));
  var human = button("转人工"); human.className = "qw-human"; human.setAttribute("aria-label", "转人工服务");
  var closeBtn = button("✕"); closeBtn.setAttribute("aria-label", "关闭对话窗口");
  head.appendChild(human); head.appendChild(closeBtn);
  var log = el("div", "qw-log"); log.setAttribute("aria-live", "polite"); log.setAttribute("role", "log"); log.setAttribute("aria-label", "对话记录");
  var form = el("form", "qw-form");
  var input = el("textarea"); input.rows = 2; input.placeholder = "请输入您的问题…（Enter 发送，Shift+Enter 换行）";
  input.setAttribute("aria-label", "输入消息");
  var send = el("button", null, "发送"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  var foot = el("div", "qw-foot");
  var typing = el("span", "qw-typing"); typing.setAttribute("aria-live", "polite");
  var counter = el("span", "qw-count", "0/" + MAX_CHARS);
  foot.appendChild(typing); foot.appendChild(counter);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(form); panel.appendChild(foot);
  var toggle = button("💬 " + title, "qw-toggle"); toggle.setAttribute("aria-expanded", "false"); toggle.setAttribute("aria-controls", "qw-panel");
  root.appendChild(panel); root.appendChild(toggle);
  document.body.appendChild(root);

  function setOpen(open) {
    root.classList.toggle("qw-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    store(OPEN_KEY, open ? "1" : null);
    if (open) { startUpdates(); input.focus(); } else { toggle.focus(); }
  }
  toggle.addEventListener("click", function () { setOpen(!root.classList.contains("qw-open")); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  function scroll() { log.scrollTop = log.scrollHeight; }
  function addUser(text) { var m = el("div", "qw-msg qw-user", text); m.setAttribute("data-role", "user"); log.appendChild(m); scroll(); }

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
    box.appendChild(el("span", null, "有帮助吗？"));
    var up = button("👍"); up.setAttribute("aria-label", "有帮助");
    var down = button("👎"); down.setAttribute("aria-label", "没有帮助");
    function vote(helpful) {
      up.disabled = down.disabled = true;
      fetch(apiBase + "/api/v1/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: sid, kb_id: kbId, helpful: helpful })
      }).then(function (r) {
        box.replaceChildren(el("span", null, r.ok ? "感谢您的反馈！" : UNAVAILABLE));
      }).catch(function () { box.replaceChildren(el("span", null, UNAVAILABLE)); up.disabled = down.disabled = false; });
    }
    up.addEventListener("click", function () { vote(true); });
    down.addEventListener("click", function () { vote(false); });
    box.appendChild(up); box.appendChild(down);
    return box;
  }

  function sources(custom) {
    var meta = el("div", "qw-meta");
    meta.appendChild(document.createTextNode("依据："));
    (custom.sources || []).forEach(function (s, i) {
      var url = safeUrl(s.url);
      if (i) meta.appendChild(document.createTextNode("；"));
      if (url) { var a = el("a", null, s.title); a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer"; meta.appendChild(a); }
      else meta.appendChild(document.createTextNode(s.title));
    });
    meta.appendChild(el("div", null, "审核日期：" + (custom.last_reviewed || "")));
    return meta;
  }

  function card(lines) {
    var c = el("div", "qw-card");
    lines.forEach(function (line) { if (line[1] != null && line[1] !== "") c.appendChild(el("div", null, line[0] + "：" + line[1])); });
    return c;
  }

  var STATE_ZH = { queued: "排队中", claimed: "工作人员已接入", closed: "已结束" };

  function addMessage(msg, role, live) {
    var custom = msg.custom || {};
    var cls = { user: "qw-user", staff: "qw-staff", system: "qw-system", error: "qw-error" }[role] || "qw-bot";
    if (role === "user") { addUser(msg.text || ""); return; }
    var box = el("div", "qw-msg " + cls);
    box.setAttribute("data-role", role);
    box.setAttribute("data-type", custom.type || "text");
    if (custom.kb_id) box.setAttribute("data-kb-id", custom.kb_id);
    if (role === "staff") box.appendChild(el("span", "qw-label", "工作人员"));
    if (msg.text) box.appendChild(el("div", "qw-text", msg.text));
    if (custom.type === "kb_answer") {
      box.appendChild(sources(custom));
      if (custom.options && custom.options.length) box.appendChild(options(custom.options));
      if (live && custom.kb_id) box.appendChild(rating(custom.kb_id));
    } else if (custom.type === "suggestions") {
      box.appendChild(options(custom.options || []));
    } else if (custom.type === "status") {
      box.appendChild(card([["编号", custom.reference], ["事项", custom.kind], ["状态", custom.state], ["更新", custom.updated_at], ["下一步", custom.next_step]]));
    } else if (custom.type === "handoff") {
      box.appendChild(card([["工单号", custom.ticket && "#" + custom.ticket], ["状态", STATE_ZH[custom.state] || custom.state], ["排队位置", custom.state === "queued" && custom.position ? "第 " + custom.position + " 位" : null]]));
    } else if (custom.type === "emergency") {
      box.appendChild(card([["领事保护应急热线", custom.hotline || "12308"], ["紧急工单", custom.ticket && "#" + custom.ticket]]));
    } else if (custom.type === "status_denied" && custom.retry_after_s) {
      box.appendChild(card([["请稍后再试", Math.ceil(custom.retry_after_s / 60) + " 分钟后"]]));
    }
    log.appendChild(box);
    scroll();
  }

  var busy = false;
  function setBusy(on) { busy = on; send.disabled = on; typing.textContent = on ? "助手正在输入…" : ""; }

  // The service did not take the message (503, rate limit, network): give it back to resend.
  function keepForResend(text) { if (!input.value) { input.value = text; updateCounter(); } }

  function submit(text) {
    text = (text || "").trim();
    if (!text || busy) return false;
    if (text.length > MAX_CHARS) { addMessage({ text: "消息太长了（超过 " + MAX_CHARS + " 字），请精简后分几次发送。" }, "error"); return false; }
    addUser(text);
    setBusy(true);
    fetch(apiBase + "/api/v1/messages", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sid, text: text })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) {
          addMessage({ text: (body.error && body.error.message) || UNAVAILABLE }, "error");
          if (r.status === 503 || r.status === 429) keepForResend(text);
          return;
        }
        (body.messages || []).forEach(function (m) { addMessage(m, "bot", true); });
        startUpdates();
      });
    }).catch(function () {
      addMessage({ text: UNAVAILABLE }, "error");
      keepForResend(text);
    }).then(function () { setBusy(false); });
    return true;
  }

  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n + "/" + MAX_CHARS;
    counter.classList.toggle("qw-over", n > MAX_CHARS);
    if (n > MAX_CHARS) counter.textContent += "（超出上限，请精简）";
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
  human.addEventListener("click", function () { if (!root.classList.contains("qw-open")) setOpen(true); submit("转人工"); });

  // Staff replies: server-sent events, or polling when the stream is not available.
  var started = false, pollTimer = null;
  function deliver(item) { addMessage(item, item.role, true); }
  function poll() {
    fetch(apiBase + "/api/v1/conversations/" + sid + "/updates").then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (body) { (body.messages || []).forEach(deliver); }).catch(function () { /* try again */ });
  }
  function startPolling() { if (!pollTimer) { poll(); pollTimer = setInterval(poll, 1500); } }
  function startUpdates() {
    if (started) return;
    started = true;
    if (!window.EventSource) { startPolling(); return; }
    var failures = 0;
    var source = new EventSource(apiBase + "/api/v1/conversations/" + sid + "/events");
    source.addEventListener("open", function () { failures = 0; });
    source.addEventListener("message", function (e) { try { deliver(JSON.parse(e.data)); } catch (err) { /* ignore */ } });
    source.addEventListener("error", function () {
      failures += 1;
      if (failures >= 3 || source.readyState === EventSource.CLOSED) { source.close(); startPolling(); }
    });
  }

  function loadHistory() {
    return fetch(apiBase + "/api/v1/conversations/" + sid + "/messages").then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (body) {
        var items = body.messages || [];
        items.forEach(function (m) { addMessage(m, m.role, false); });
        if (!items.length) addMessage({ text: "您好，我是" + title + "。可以问我归侨侨眷权益、因私签证代办、领事认证和附加证明书等问题，也可以随时点击“转人工”。" }, "bot");
      }).catch(function () { /* history is optional */ });
  }

  loadHistory().then(function () { if (load(OPEN_KEY)) setOpen(true); });
})();
