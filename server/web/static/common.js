// Shared helpers of the Zhengxin pages: language toggle, the API client,
// small DOM builders, QR drawing. Plain ES2017, no build step, no inline
// scripts (the CSP forbids them).
"use strict";

var ZX = (function () {
  var apiBase = (document.querySelector('meta[name="zx-api"]') || {}).content || "/api/v1";

  // ---- language: Chinese first, English on request, remembered ----------
  function lang() { return document.documentElement.getAttribute("data-lang") || "zh"; }
  function setLang(l) {
    document.documentElement.setAttribute("data-lang", l);
    document.documentElement.setAttribute("lang", l === "en" ? "en" : "zh-CN");
    try { localStorage.setItem("zx_lang", l); } catch (e) { /* private mode */ }
    // The cookie lets the server render the right language on the next load.
    document.cookie = "zx_lang=" + l + "; path=/; max-age=31536000; SameSite=Lax";
  }
  function initLang() {
    var saved = null;
    try { saved = localStorage.getItem("zx_lang"); } catch (e) { }
    if (saved && saved !== lang()) setLang(saved);
    var b = document.getElementById("lang-toggle");
    if (b) b.addEventListener("click", function () { setLang(lang() === "en" ? "zh" : "en"); });
  }

  // ---- DOM -----------------------------------------------------------------
  // el("tag.class", {attr: v}, child...) builds an element; children may be
  // strings, nodes or arrays.
  function el(spec, attrs) {
    var parts = spec.split(".");
    var e = document.createElement(parts[0] || "div");
    if (parts.length > 1) e.className = parts.slice(1).join(" ");
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") e.textContent = v;
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function append(e, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(e, x); }); return; }
    e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  // t(zh, en) is a bilingual text: both spans, CSS shows one.
  function t(zh, en) {
    var f = document.createDocumentFragment();
    f.appendChild(el("span.zh", { text: zh, lang: "zh-CN" }));
    f.appendChild(el("span.en", { text: en === undefined ? zh : en, lang: "en" }));
    return f;
  }
  // tx({zh, en}) for a message object from the API; a plain string is shown as is.
  function tx(m) {
    if (m === undefined || m === null) return document.createTextNode("");
    if (typeof m === "string") return document.createTextNode(m);
    return t(m.zh || m.en || "", m.en || m.zh || "");
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function $(id) { return document.getElementById(id); }

  var toastTimer = null;
  function toast(zh, en) {
    var b = $("toast");
    if (!b) return;
    clear(b).appendChild(t(zh, en));
    b.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { b.hidden = true; }, 4000);
  }

  function fmtTime(s) {
    if (!s) return "";
    var d = new Date(s);
    if (isNaN(d)) return String(s);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  var statusNames = {
    valid: ["有效", "valid"], suspended: ["暂扣", "suspended"],
    revoked: ["吊销", "revoked"], cancelled: ["注销", "cancelled"]
  };
  function statusBadge(s) {
    var n = statusNames[s] || [s || "?", s || "?"];
    return el("span.badge." + (s || "unknown"), { "data-status": s }, t(n[0], n[1]));
  }

  // ---- API ---------------------------------------------------------------
  function token() { try { return sessionStorage.getItem("zx_token") || ""; } catch (e) { return ""; } }
  function setToken(v) { try { if (v) sessionStorage.setItem("zx_token", v); else sessionStorage.removeItem("zx_token"); } catch (e) { } }
  // The CSRF token of the page session (cookie login): rendered into
  // <meta name="zx-csrf"> when the page is loaded signed in, or taken from
  // the login answer. Bearer-token callers need none.
  var csrfToken = (document.querySelector('meta[name="zx-csrf"]') || {}).content || "";
  function setCSRF(v) { csrfToken = v || ""; }
  function signedIn() { return !!(token() || csrfToken); }

  function ApiError(status, problem) {
    this.status = status;
    this.problem = problem || {};
    this.message = (this.problem.detail || this.problem.title || ("HTTP " + status));
  }
  ApiError.prototype = Object.create(Error.prototype);

  // api(method, path, body, opts) calls the JSON API. body may be a plain
  // object (sent as JSON), a FormData, a Blob/File (sent raw with its type),
  // or a string (sent as text/plain). opts.raw returns the Response (for
  // downloads); opts.token overrides the bearer token.
  function api(method, path, body, opts) {
    opts = opts || {};
    var h = { "Accept": opts.accept || "application/json" };
    var tok = opts.token !== undefined ? opts.token : token();
    if (tok) h["Authorization"] = "Bearer " + tok;
    if (csrfToken && method !== "GET" && !tok) h["X-CSRF-Token"] = csrfToken;
    var b = body;
    if (body !== undefined && body !== null && !(body instanceof FormData) && !(body instanceof Blob) && typeof body !== "string") {
      h["Content-Type"] = "application/json";
      b = JSON.stringify(body);
    } else if (body instanceof Blob && body.type) {
      h["Content-Type"] = body.type;
    } else if (typeof body === "string") {
      h["Content-Type"] = opts.contentType || "text/plain; charset=utf-8";
    }
    if (opts.headers) Object.keys(opts.headers).forEach(function (k) { h[k] = opts.headers[k]; });
    return fetch(apiBase + path, { method: method, headers: h, body: b, credentials: "same-origin" }).then(function (res) {
      if (!res.ok) {
        return res.text().then(function (txt) {
          var p = null;
          try { p = JSON.parse(txt); } catch (e) { p = { detail: txt.slice(0, 300) }; }
          throw new ApiError(res.status, p);
        });
      }
      if (opts.raw) return res;
      if (res.status === 204) return null;
      var ct = res.headers.get("Content-Type") || "";
      return ct.indexOf("json") >= 0 ? res.json() : res.text();
    });
  }

  // problemText turns an API error into a bilingual message node.
  function problemText(err) {
    if (!(err instanceof ApiError)) return t("网络错误：" + (err && err.message || err), "Network error: " + (err && err.message || err));
    var p = err.problem;
    if (p.message && typeof p.message === "object") return tx(p.message);
    if (err.status === 401) return t("未登录或登录已过期，请重新登录。", "Not signed in or the session expired; sign in again.");
    if (err.status === 403) return t("没有权限执行此操作。", "You are not allowed to do this.");
    if (err.status === 429) return t("请求过于频繁，请稍后再试。", "Too many requests; try again shortly.");
    var d = p.detail || p.title || ("HTTP " + err.status);
    return t(p.detail_zh || d, d);
  }

  // fieldErrors normalises the per-field errors of a 400/422 problem:
  // [{field, message}] or {field: message}; message a string or {zh, en}.
  function fieldErrors(err) {
    var out = {};
    if (!(err instanceof ApiError)) return out;
    var e = err.problem.errors || err.problem.fields || err.problem["invalid-params"] || err.problem.invalid_params;
    if (Array.isArray(e)) e.forEach(function (x) { out[x.field || x.name || x.pointer || ""] = x.message || (x.zh || x.en ? { zh: x.zh, en: x.en } : x.detail); });
    else if (e && typeof e === "object") Object.keys(e).forEach(function (k) { out[k] = e[k]; });
    return out;
  }

  // drawQR draws text as a QR code on a canvas (qrcode-generator, vendored),
  // with a quiet zone of 4 modules, and records the text on the canvas as
  // data-payload so tests and the clerk's tools can read it.
  function drawQR(canvas, text) {
    /* global qrcode */
    var q = qrcode(0, text.length > 600 ? "L" : "M");
    q.addData(text, "Byte");
    q.make();
    var n = q.getModuleCount(), quiet = 4, total = n + 2 * quiet;
    var scale = Math.max(2, Math.floor(Math.max(canvas.width, 240) / total));
    canvas.width = canvas.height = total * scale;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#000";
    for (var r = 0; r < n; r++) for (var c = 0; c < n; c++) {
      if (q.isDark(r, c)) ctx.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
    }
    canvas.setAttribute("data-payload", text);
  }

  function download(blob, name) {
    var a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // licenseTypes returns the license type catalogue: from the page's
  // <script type="application/json" id="license-types"> block, else the API.
  // It resolves to {list: [...], byKey: {key: type}, codeLists: {...}}.
  function licenseTypes() {
    var inline = document.getElementById("license-types");
    var p = inline ? Promise.resolve(JSON.parse(inline.textContent)) : api("GET", "/license-types", null, { token: "" });
    return p.then(function (r) {
      var list = Array.isArray(r) ? r : (r && (r.types || r.items)) || [], byKey = {};
      list.forEach(function (ty) { byKey[ty.key || ty.id] = ty; });
      return { list: list, byKey: byKey, codeLists: (r && r.code_lists) || {} };
    });
  }
  // codeText shows a code field's value as its name (options or code list).
  function codeText(f, v, codeLists) {
    var opts = f && (f.options || (codeLists && codeLists[f.codes]));
    if (!opts) return null;
    var c = opts.filter(function (x) { return String(x.code) === String(v); })[0];
    return c ? c.zh + "（" + c.en + "）" : null;
  }

  document.addEventListener("DOMContentLoaded", initLang);

  return {
    api: api, ApiError: ApiError, problemText: problemText, fieldErrors: fieldErrors,
    token: token, setToken: setToken, setCSRF: setCSRF, signedIn: signedIn, el: el, t: t, tx: tx, clear: clear, $: $,
    toast: toast, fmtTime: fmtTime, statusBadge: statusBadge, statusNames: statusNames,
    drawQR: drawQR, download: download, lang: lang, licenseTypes: licenseTypes, codeText: codeText
  };
})();
