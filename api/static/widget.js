/* 侨务助手 chat widget: embeddable with one <script src=".../widget.js"> tag. No framework.
 * All message text is inserted with textContent (never as HTML), so markup shows as text. */
(function () {
  "use strict";
  var script = document.currentScript;
  var apiBase = (script && script.getAttribute("data-api")) || (script ? new URL(script.src).origin : "");
  var title = (script && script.getAttribute("data-title")) || "侨务助手";
  var STORAGE_KEY = "qiaowu-session";
  var MAX_CHARS = 1000;

  function sessionId() {
    var id = null;
    try { id = localStorage.getItem(STORAGE_KEY); } catch (e) { /* storage blocked */ }
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9_-]/g, "");
      try { localStorage.setItem(STORAGE_KEY, id); } catch (e) { /* ignore */ }
    }
    return id;
  }

  var css = [
    ".qw-root{position:fixed;right:16px;bottom:16px;z-index:2147483000;font:15px/1.5 system-ui,'PingFang SC','Microsoft YaHei',sans-serif}",
    ".qw-toggle{background:#b71c1c;color:#fff;border:0;border-radius:24px;padding:10px 18px;font-size:15px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    ".qw-panel{display:none;flex-direction:column;width:min(380px,calc(100vw - 32px));height:min(560px,calc(100vh - 96px));background:#fff;border:1px solid #d0d5dd;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.2);overflow:hidden;margin-bottom:8px}",
    ".qw-open .qw-panel{display:flex}",
    ".qw-head{background:#b71c1c;color:#fff;padding:10px 12px;display:flex;justify-content:space-between;align-items:center}",
    ".qw-head button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.6);border-radius:4px;cursor:pointer}",
    ".qw-log{flex:1;overflow-y:auto;padding:10px;background:#f7f7f8}",
    ".qw-msg{margin:6px 0;padding:8px 10px;border-radius:8px;max-width:88%;white-space:pre-wrap;word-wrap:break-word}",
    ".qw-user{background:#dbeafe;margin-left:auto}",
    ".qw-bot{background:#fff;border:1px solid #e4e7ec}",
    ".qw-error{background:#fff4e5;border:1px solid #f5b971}",
    ".qw-meta{font-size:12px;color:#52606d;margin-top:6px}",
    ".qw-meta a{color:#1d4ed8}",
    ".qw-opts{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".qw-opts button{border:1px solid #b71c1c;color:#b71c1c;background:#fff;border-radius:14px;padding:2px 10px;cursor:pointer;font-size:13px}",
    ".qw-form{display:flex;border-top:1px solid #e4e7ec}",
    ".qw-form textarea{flex:1;border:0;padding:10px;resize:none;font:inherit;min-height:44px}",
    ".qw-form button{border:0;background:#b71c1c;color:#fff;padding:0 16px;cursor:pointer}",
    ".qw-typing{font-size:12px;color:#52606d;padding:0 10px 6px;min-height:18px}",
    ".qw-card{border-left:3px solid #b71c1c;padding-left:8px;margin-top:6px}"
  ].join("\n");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function safeUrl(url) {
    try { var u = new URL(url); return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null; }
    catch (e) { return null; }
  }

  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var root = el("div", "qw-root");
  var panel = el("div", "qw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", title);
  var head = el("div", "qw-head"); head.appendChild(el("strong", null, title));
  var human = el("button", null, "转人工"); human.type = "button"; head.appendChild(human);
  var log = el("div", "qw-log"); log.setAttribute("aria-live", "polite"); log.setAttribute("role", "log");
  var typing = el("div", "qw-typing");
  var form = el("form", "qw-form");
  var input = el("textarea"); input.rows = 1; input.maxLength = MAX_CHARS; input.placeholder = "请输入您的问题…";
  input.setAttribute("aria-label", "输入消息");
  var send = el("button", null, "发送"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(typing); panel.appendChild(form);
  var toggle = el("button", "qw-toggle", "💬 " + title); toggle.type = "button"; toggle.setAttribute("aria-expanded", "false");
  root.appendChild(panel); root.appendChild(toggle);
  document.body.appendChild(root);

  toggle.addEventListener("click", function () {
    var open = root.classList.toggle("qw-open");
    toggle.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  });

  function addUser(text) { log.appendChild(el("div", "qw-msg qw-user", text)); log.scrollTop = log.scrollHeight; }

  function options(list) {
    var box = el("div", "qw-opts");
    list.forEach(function (opt) {
      var b = el("button", null, opt.title); b.type = "button";
      b.addEventListener("click", function () { submit(opt.title); });
      box.appendChild(b);
    });
    return box;
  }

  function addBot(msg, isError) {
    var custom = msg.custom || {};
    var box = el("div", "qw-msg " + (isError ? "qw-error" : "qw-bot"));
    box.setAttribute("data-type", custom.type || "text");
    if (custom.kb_id) box.setAttribute("data-kb-id", custom.kb_id);
    if (msg.text) box.appendChild(el("div", null, msg.text));
    if (custom.type === "kb_answer") {
      var meta = el("div", "qw-meta");
      meta.appendChild(document.createTextNode("依据："));
      (custom.sources || []).forEach(function (s, i) {
        var url = safeUrl(s.url);
        if (i) meta.appendChild(document.createTextNode("；"));
        if (url) { var a = el("a", null, s.title); a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer"; meta.appendChild(a); }
        else meta.appendChild(document.createTextNode(s.title));
      });
      meta.appendChild(el("div", null, "审核日期：" + (custom.last_reviewed || "")));
      box.appendChild(meta);
      if (custom.options && custom.options.length) box.appendChild(options(custom.options));
    } else if (custom.type === "suggestions") {
      box.appendChild(options(custom.options || []));
    } else if (custom.type === "status") {
      var card = el("div", "qw-card");
      card.appendChild(el("div", null, "编号：" + custom.reference));
      card.appendChild(el("div", null, "状态：" + custom.state));
      card.appendChild(el("div", null, "更新：" + custom.updated_at));
      box.appendChild(card);
    }
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  var busy = false;
  function submit(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    if (text.length > MAX_CHARS) { addBot({ text: "消息太长了，请精简到" + MAX_CHARS + "字以内。" }, true); return; }
    addUser(text);
    busy = true; send.disabled = true; typing.textContent = "正在输入…";
    fetch(apiBase + "/api/v1/messages", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId(), text: text })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { addBot({ text: (body.error && body.error.message) || "服务暂时不可用，请稍后再试" }, true); return; }
        (body.messages || []).forEach(function (m) { addBot(m, false); });
      });
    }).catch(function () {
      addBot({ text: "服务暂时不可用，请稍后再试" }, true);
    }).then(function () { busy = false; send.disabled = false; typing.textContent = ""; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; submit(t); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  human.addEventListener("click", function () { submit("转人工"); });
})();
