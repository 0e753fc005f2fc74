// Issuer console: sign in, issue (with field-by-field validation), find and
// open licenses, change status with a reason, deliver to a wallet with a
// one-time claim code, bulk CSV issuance with progress, seals, PDF signing,
// the audit log and its hash chain.
"use strict";

(function () {
  var $ = ZX.$, el = ZX.el, t = ZX.t, tx = ZX.tx, clear = ZX.clear, api = ZX.api;
  var types = [];          // license type definitions
  var current = null;      // the license open in the detail view
  var me = {};             // the signed-in caller (GET /session)

  // ---- sign in -------------------------------------------------------------
  function showLogin(on) {
    $("login").hidden = !on;
    $("console").hidden = on;
    if (on) $("login-user").focus();
  }
  function whoami() {
    return api("GET", "/session").then(function (who) {
      if (!who || !who.role) throw new ZX.ApiError(401, {});
      me = who;
      if (me.csrf_token) ZX.setCSRF(me.csrf_token);
      // Only admins check the whole chain; issuers read their agency's entries.
      $("audit-verify").hidden = me.role !== "admin";
      $("audit-scope").hidden = me.role !== "issuer";
      clear($("who")).appendChild(document.createTextNode((me.name || "") + " · " + me.role + (me.agency ? " · " + me.agency : "")));
      showLogin(false);
      return loadTypes();
    });
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = $("login-error"); clear(err);
    var tok = $("login-token").value.trim();
    var p;
    if (tok) {
      ZX.setToken(tok);
      p = Promise.resolve();
    } else {
      var u = $("login-user").value.trim(), pw = $("login-pass").value;
      if (!u || !pw) { err.appendChild(t("请输入用户名和密码。", "Enter your user name and password.")); return; }
      p = api("POST", "/session", { name: u, password: pw }, { token: "" }).then(function (r) {
        ZX.setCSRF(r && (r.csrf_token || r.csrf));
      });
    }
    p.then(whoami).then(function () { $("login-pass").value = ""; $("login-token").value = ""; })
      .catch(function (e) { ZX.setToken(""); clear(err).appendChild(e.status === 401 ? t("用户名、密码或令牌不正确。", "Wrong user name, password or token.") : ZX.problemText(e)); });
  });
  $("logout").addEventListener("click", function () {
    api("DELETE", "/session", {}).catch(function () { });
    ZX.setToken(""); ZX.setCSRF("");
    showLogin(true);
  });

  // ---- tabs ----------------------------------------------------------------
  function showTab(name) {
    document.querySelectorAll('[role="tabpanel"]').forEach(function (p) { p.hidden = p.id !== "tab-" + name; });
    document.querySelectorAll('[role="tab"]').forEach(function (b) { b.setAttribute("aria-selected", b.getAttribute("data-tab") === name ? "true" : "false"); });
    if (name === "seals" || name === "pdfsign") loadSeals();
    if (name === "audit") loadAudit();
    if (name === "search") search();
  }
  document.querySelectorAll('[role="tab"]').forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });

  // ---- license types and the issue form -------------------------------------
  // The definitions are license/types.json: {code_lists, types: [{key, zh,
  // en, fields: [{key, zh, en, kind, check, codes, required, max}],
  // profiles}]}.
  var codeLists = {};
  function label(x) {
    if (!x) return { zh: "", en: "" };
    if (typeof x === "string") return { zh: x, en: x };
    return { zh: x.zh || x.en || "", en: x.en || x.zh || "" };
  }
  function typeID(ty) { return ty.key || ty.id || ty.code; }
  function typeName(ty) { return label(ty.zh ? ty : ty.name); }
  function fieldName(f) { return f.key || f.name; }
  function fieldLabel(f) { return label(f.zh ? f : (f.label || fieldName(f))); }
  function fieldKind(f) { return f.check || f.kind || "text"; }

  function loadTypes() {
    return ZX.licenseTypes().then(function (r) {
      types = r.list;
      codeLists = r.codeLists;
      [$("issue-type"), $("bulk-type")].forEach(function (s) {
        clear(s);
        types.forEach(function (ty) {
          var n = typeName(ty);
          s.appendChild(el("option", { value: typeID(ty), text: n.zh + (n.en && n.en !== n.zh ? " " + n.en : "") }));
        });
      });
      buildIssueFields();
    }).catch(function (e) { clear($("issue-error")).appendChild(ZX.problemText(e)); });
  }
  function currentType() {
    var id = $("issue-type").value;
    return types.filter(function (ty) { return typeID(ty) === id; })[0];
  }
  function buildIssueFields() {
    var box = clear($("issue-fields")), ty = currentType();
    if (!ty) return;
    (ty.fields || []).forEach(function (f) {
      var name = fieldName(f), id = "f-" + name, l = fieldLabel(f), kind = fieldKind(f);
      var attrs = { id: id, name: name, "data-kind": kind, "aria-describedby": id + "-err" };
      if (f.required) attrs.required = true;
      if (f.max) attrs.maxlength = f.max;
      if (f.pattern) attrs["data-pattern"] = f.pattern;
      if (f.kind === "date") attrs.type = "date";
      if (f.kind === "number") { attrs.inputmode = "decimal"; attrs["data-pattern"] = f.scale ? "-?\\d+(\\.\\d{1," + f.scale + "})?" : "-?\\d+"; }
      var input, opts = f.options || codeLists[f.codes];
      if (opts) {
        input = el("select", attrs, el("option", { value: "", text: "—" }), opts.map(function (o) {
          var v = typeof o === "object" ? (o.code !== undefined ? o.code : o.value) : o, ol = typeof o === "object" ? label(o.zh ? o : o.label) : { zh: o, en: o };
          return el("option", { value: v, text: ol.zh + (ol.en !== ol.zh ? " " + ol.en : "") });
        }));
      } else {
        input = el("input", attrs);
      }
      if (f.default !== undefined) input.value = f.default;
      box.appendChild(el("div.field", { "data-field": name },
        el("label", { for: id }, t(l.zh, l.en), f.unit ? t("（" + f.unit + "）", " (" + (f.unit_en || f.unit) + ")") : null,
          f.required ? el("span.req", { "aria-hidden": "true", text: " *" }) : null),
        input,
        f.hint ? el("span.hint", null, tx(f.hint)) : null,
        el("span.field-error", { id: id + "-err", "aria-live": "polite" })));
    });
  }
  $("issue-type").addEventListener("change", buildIssueFields);

  // Check characters of the two national identifiers, so the clerk hears
  // about a typo before the server does. The server checks again.
  function validIDNumber(s) { // GB 11643 citizen ID number
    if (!/^\d{17}[\dX]$/.test(s)) return false;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0;
    for (var i = 0; i < 17; i++) sum += (+s[i]) * w[i];
    return "10X98765432"[sum % 11] === s[17];
  }
  function validCreditCode(s) { // GB 32100 unified social credit code
    var a = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(s)) return false;
    var w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], sum = 0;
    for (var i = 0; i < 17; i++) sum += a.indexOf(s[i]) * w[i];
    var c = 31 - sum % 31;
    return a[c === 31 ? 0 : c] === s[17];
  }
  function checkField(input) {
    var v = input.value.trim(), kind = input.getAttribute("data-kind");
    if (!v) return input.required ? t("此项必填。", "This field is required.") : null;
    var max = input.getAttribute("maxlength");
    if (max && [...v].length > +max) return t("不能超过 " + max + " 个字。", "At most " + max + " characters.");
    if (kind === "holder_id" && !validIDNumber(v.toUpperCase()) && !validCreditCode(v.toUpperCase()) && !/^[A-Z0-9]{5,20}$/i.test(v))
      return t("证件号码不正确：应为身份证号码、统一社会信用代码或护照号码。", "Invalid ID: a citizen ID number, unified social credit code or passport number.");
    if (/citizen/i.test(kind) && !validIDNumber(v.toUpperCase()))
      return t("身份证号码不正确：应为 18 位，且末位校验码须正确。", "Invalid ID number: 18 characters with a correct check character.");
    if (/uscc|credit/i.test(kind) && !validCreditCode(v.toUpperCase()))
      return t("统一社会信用代码不正确：应为 18 位，且末位校验码须正确。", "Invalid unified social credit code: 18 characters with a correct check character.");
    var pat = input.getAttribute("data-pattern");
    if (pat) { try { if (!new RegExp("^(?:" + pat + ")$").test(v)) return t("格式不正确。", "Wrong format."); } catch (e) { } }
    return null;
  }
  function setFieldError(name, msg) {
    var input = document.querySelector('#issue-fields [name="' + CSS.escape(name) + '"]');
    if (!input) return false;
    var out = $(input.id + "-err");
    clear(out);
    if (msg) { out.appendChild(msg instanceof Node ? msg : tx(msg)); input.setAttribute("aria-invalid", "true"); }
    else input.removeAttribute("aria-invalid");
    return true;
  }
  $("issue-fields").addEventListener("change", function (ev) {
    if (ev.target.name) setFieldError(ev.target.name, checkField(ev.target));
  });

  var idemKey = null; // kept across retries of the same form so a double click issues once
  $("issue-form").addEventListener("input", function () { idemKey = null; });
  $("issue-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("issue-error")), fields = {}, bad = null;
    document.querySelectorAll("#issue-fields [name]").forEach(function (input) {
      var m = checkField(input);
      setFieldError(input.name, m);
      if (m && !bad) bad = input;
      var v = input.value.trim();
      if (v) fields[input.name] = /citizen|uscc|holder_id/i.test(input.getAttribute("data-kind")) ? v.toUpperCase() : v;
    });
    if (bad) { err.appendChild(t("请更正标红的字段。", "Correct the fields marked in red.")); bad.focus(); return; }
    if (!idemKey) idemKey = randomID();
    var btn = $("issue-submit"); btn.disabled = true;
    api("POST", "/licenses", issueRequest($("issue-type").value, fields), { headers: { "Idempotency-Key": idemKey } })
      .then(function (lic) {
        idemKey = null;
        ZX.toast("已签发：" + lic.id, "Issued: " + lic.id);
        document.querySelectorAll("#issue-fields [name]").forEach(function (i) { i.value = ""; });
        openLicense(lic.id);
      })
      .catch(function (e) {
        var fe = ZX.fieldErrors(e), any = false;
        Object.keys(fe).forEach(function (k) { if (setFieldError(unalias(k.replace(/^\/?(fields[\/.])?/, "")), fe[k])) any = true; });
        err.appendChild(any ? t("请更正标红的字段。", "Correct the fields marked in red.") : ZX.problemText(e));
      })
      .finally(function () { btn.disabled = false; });
  });
  // issueRequest builds the body of POST /licenses: holder and validity
  // travel at the top level (server.IssueRequest), the rest in fields.
  var topLevel = { holder_name: "holder_name", holder_id: "holder_id", valid_from: "valid_from", valid_to: "valid_until" };
  function unalias(k) { return k === "valid_until" ? "valid_to" : k; }
  function issueRequest(type, fields) {
    var req = { type: type, fields: {} };
    Object.keys(fields).forEach(function (k) {
      if (topLevel[k]) req[topLevel[k]] = fields[k]; else req.fields[k] = fields[k];
    });
    return req;
  }
  function randomID() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.from(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
  }

  // ---- search and the license detail -----------------------------------------
  function licenseType(l) { return l.type_name || l.type || ""; }
  function holderOf(l) { return l.holder_name || l.holder || (l.fields && (l.fields.holder || l.fields.name)) || ""; }
  function search() {
    var q = $("search-q").value.trim(), st = $("search-status").value;
    var qs = "?limit=100" + (q ? "&q=" + encodeURIComponent(q) : "") + (st ? "&status=" + st : "");
    api("GET", "/licenses" + qs).then(function (r) {
      var items = Array.isArray(r) ? r : (r && (r.items || r.licenses)) || [];
      var tb = clear(document.querySelector("#search-results tbody"));
      $("search-empty").hidden = items.length > 0;
      items.forEach(function (l) {
        var tr = el("tr.clickable", { tabindex: "0", "data-id": l.id },
          el("td", null, el("code", { text: l.id })), el("td", { text: (function () { var ty = types.filter(function (x) { return typeID(x) === l.type; })[0]; return ty ? typeName(ty).zh : licenseType(l); })() }),
          el("td", { text: typeof holderOf(l) === "object" ? JSON.stringify(holderOf(l)) : holderOf(l) }),
          el("td", null, ZX.statusBadge(l.status)), el("td", { text: ZX.fmtTime(l.issued_at || l.created_at) }));
        tr.addEventListener("click", function () { openLicense(l.id); });
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") openLicense(l.id); });
        tb.appendChild(tr);
      });
    }).catch(function (e) { ZX.toast("查询失败", "Search failed"); console.error(e); });
  }
  $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); search(); });
  $("license-back").addEventListener("click", function () { showTab("search"); });

  function openLicense(id) {
    return api("GET", "/licenses/" + encodeURIComponent(id)).then(function (l) {
      current = l;
      showTab("license");
      $("tab-license").hidden = false;
      var ty = types.filter(function (x) { return typeID(x) === l.type; })[0];
      var tn = ty ? typeName(ty) : label(l.type_name || l.type);
      clear($("license-title")).appendChild(t(tn.zh, tn.en));
      $("license-id").textContent = l.id;
      var badge = $("license-status");
      clear(badge).appendChild(ZX.statusBadge(l.status));
      badge.className = "";
      $("license-status").setAttribute("data-status", l.status);
      var dl = clear($("license-fields")), fields = l.fields || l.subject || {};
      var defs = ty ? ty.fields || [] : [];
      // In the type's field order, then anything the type does not name.
      var keys = defs.map(fieldName).filter(function (k) { return fields[k] !== undefined && fields[k] !== ""; });
      Object.keys(fields).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); });
      keys.forEach(function (k) {
        var d = defs.filter(function (f) { return fieldName(f) === k; })[0], lb = d ? fieldLabel(d) : { zh: k, en: k };
        var v = fields[k];
        v = typeof v === "object" ? JSON.stringify(v) : String(v);
        if (d && d.options) { var o = d.options.filter(function (x) { return String(x.code) === v || x.zh === v; })[0]; if (o) v = o.zh + (o.en !== o.zh ? "（" + o.en + "）" : ""); }
        dl.appendChild(el("dt", { "data-field": k }, t(lb.zh, lb.en)));
        dl.appendChild(el("dd", { "data-field": k, text: v }));
      });
      dl.appendChild(el("dt", null, t("签发时间", "Issued at")));
      dl.appendChild(el("dd", { text: ZX.fmtTime(l.issued_at) }));
      loadHistory(l.id);
      $("claim-box").hidden = true;
      clear($("status-error")); $("status-reason").value = "";
      var qr = l.qr || l.qr_text || l.payload;
      (qr ? Promise.resolve(qr) : api("GET", "/licenses/" + encodeURIComponent(l.id) + "/qr?format=text", null, { accept: "text/plain" }))
        .then(function (txt) { ZX.drawQR($("license-qr"), String(txt).trim()); })
        .catch(function () { $("license-qr").removeAttribute("data-payload"); });
    }).catch(function (e) { ZX.toast("无法打开证照", "Cannot open the license"); console.error(e); });
  }

  // The history is the license's audit trail: GET /audit?object=<id>.
  var actionNames = { "license.issue": ["签发", "issued"], "license.claim-code": ["生成领取码", "claim code made"],
    "license.claim": ["持证人领取", "claimed by the holder"], "license.bind": ["绑定设备", "bound to a device"], "usage.record": ["用证", "used at a counter"] };
  function loadHistory(id) {
    var hb = clear(document.querySelector("#license-history tbody"));
    return api("GET", "/audit?object=" + encodeURIComponent(id) + "&limit=100").then(function (r) {
      var items = (r && r.items) || [];
      items.forEach(function (h) {
        var d = h.detail || {}, what;
        if (h.action === "license.status" && d.to) what = ZX.statusBadge(d.to);
        else { var n = actionNames[h.action] || [h.action, h.action]; what = t(n[0], n[1]); }
        hb.appendChild(el("tr", { "data-action": h.action }, el("td", { text: ZX.fmtTime(h.at) }), el("td", null, what),
          el("td", { text: d.reason || d.service || d.service_item || "" }), el("td", { text: h.actor || "" })));
      });
    }).catch(function () { });
  }

  $("status-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("status-error")), reason = $("status-reason").value.trim(), st = $("status-set").value;
    if (!current) return;
    if (!reason) { err.appendChild(t("请填写变更原因。", "Give the reason for the change.")); $("status-reason").setAttribute("aria-invalid", "true"); $("status-reason").focus(); return; }
    $("status-reason").removeAttribute("aria-invalid");
    if (st === current.status) { err.appendChild(t("证照已是该状态。", "The license already has this status.")); return; }
    $("status-submit").disabled = true;
    api("POST", "/licenses/" + encodeURIComponent(current.id) + "/status", { status: st, reason: reason })
      .then(function () { ZX.toast("状态已变更", "Status changed"); return openLicense(current.id); })
      .catch(function (e) { err.appendChild(ZX.problemText(e)); })
      .finally(function () { $("status-submit").disabled = false; });
  });

  $("license-pdf").addEventListener("click", function () {
    if (!current) return;
    api("GET", "/licenses/" + encodeURIComponent(current.id) + "/pdf", null, { raw: true, accept: "application/pdf" })
      .then(function (res) { return res.blob(); })
      .then(function (b) { ZX.download(b, current.id + ".pdf"); })
      .catch(function (e) { ZX.toast("PDF 生成失败", "PDF failed"); console.error(e); });
  });

  $("claim-make").addEventListener("click", function () {
    if (!current) return;
    api("POST", "/licenses/" + encodeURIComponent(current.id) + "/claim-code", {}).then(function (c) {
      $("claim-box").hidden = false;
      $("claim-code").textContent = c.code;
      // The QR carries the wallet URL with the code, so a phone camera
      // opens the wallet ready to claim.
      ZX.drawQR($("claim-qr"), location.origin + "/wallet#claim=" + encodeURIComponent(c.code));
      clear($("claim-expires")).appendChild(t("一次有效，" + ZX.fmtTime(c.expires_at) + " 前领取。", "Single use; claim before " + ZX.fmtTime(c.expires_at) + "."));
    }).catch(function (e) { ZX.toast("无法生成领取码", "Cannot make a claim code"); console.error(e); });
  });

  // ---- bulk ------------------------------------------------------------------
  // Bulk issuance runs in the page: the CSV is parsed here and each row is
  // one POST /licenses whose Idempotency-Key is the SHA-256 of the type and
  // the row, so uploading the same file again (after a network failure, or
  // by mistake) issues nothing twice. Rejected rows are collected, with the
  // reason, into a CSV the clerk downloads, fixes and uploads again.
  function parseCSV(text) {
    var rows = [], row = [], f = "", q = false, i = 0;
    if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM from spreadsheet programs
    for (; i < text.length; i++) {
      var c = text[i];
      if (q) {
        if (c === '"') { if (text[i + 1] === '"') { f += '"'; i++; } else q = false; }
        else f += c;
      } else if (c === '"') q = true;
      else if (c === ",") { row.push(f); f = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(f); f = "";
        if (row.length > 1 || row[0] !== "") rows.push(row);
        row = [];
      } else f += c;
    }
    if (f !== "" || row.length) { row.push(f); rows.push(row); }
    return rows;
  }
  function csvLine(cells) {
    return cells.map(function (c) { c = String(c === undefined ? "" : c); return /[",\r\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c; }).join(",");
  }
  function rowKey(type, cells) {
    var data = new TextEncoder().encode(type + "\n" + csvLine(cells));
    return crypto.subtle.digest("SHA-256", data).then(function (h) {
      return "csv-" + Array.from(new Uint8Array(h), function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
    });
  }
  function problemLine(e) {
    var fe = ZX.fieldErrors(e), parts = Object.keys(fe).map(function (k) { var m = fe[k]; return unalias(k) + ": " + (m && m.zh ? m.zh + " / " + m.en : m); });
    if (parts.length) return parts.join("; ");
    var p = e && e.problem || {};
    return p.message && p.message.zh ? p.message.zh + " / " + p.message.en : (p.detail || p.title || String(e && e.message || e));
  }
  $("bulk-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("bulk-error")), file = $("bulk-file").files[0], type = $("bulk-type").value;
    if (!file) { err.appendChild(t("请选择 CSV 文件。", "Choose a CSV file.")); return; }
    var ty = types.filter(function (x) { return typeID(x) === type; })[0];
    file.text().then(function (text) {
      var rows = parseCSV(text);
      if (rows.length < 2) { err.appendChild(t("文件没有数据行。", "The file has no data rows.")); return; }
      // Header cells may be field keys or their Chinese or English names.
      var header = rows[0].map(function (h) {
        h = h.trim();
        var f = ty && (ty.fields || []).filter(function (x) { return fieldName(x) === h || x.zh === h || x.en === h; })[0];
        return f ? fieldName(f) : h;
      });
      var unknown = header.filter(function (h) { return ty && !(ty.fields || []).some(function (x) { return fieldName(x) === h; }); });
      if (unknown.length) { err.appendChild(t("未知的列：" + unknown.join("、"), "Unknown columns: " + unknown.join(", "))); return; }
      runBulk(type, header, rows.slice(1));
    });
  });
  function runBulk(type, header, rows) {
    var total = rows.length, done = 0, issued = 0, rejects = [], next = 0, btn = document.querySelector("#bulk-form button");
    btn.disabled = true;
    $("bulk-progress").hidden = false;
    $("bulk-rejects").hidden = true;
    function show() {
      $("bulk-bar").max = total; $("bulk-bar").value = done;
      clear($("bulk-counts")).appendChild(t("已处理 " + done + " / " + total + " 行：签发 " + issued + "，未通过 " + rejects.length,
        "Processed " + done + " / " + total + " rows: issued " + issued + ", rejected " + rejects.length));
      $("bulk-progress").setAttribute("data-done", String(done));
    }
    function one() {
      if (next >= rows.length) return Promise.resolve();
      var cells = rows[next++], fields = {};
      header.forEach(function (h, i) { var v = (cells[i] || "").trim(); if (v) fields[h] = v; });
      return rowKey(type, cells).then(function (key) {
        return api("POST", "/licenses", issueRequest(type, fields), { headers: { "Idempotency-Key": key } });
      }).then(function () { issued++; }, function (e) { rejects.push(cells.concat([problemLine(e)])); })
        .then(function () { done++; show(); return one(); });
    }
    show();
    // Two rows in flight: enough to hide latency, gentle on the signer.
    Promise.all([one(), one()]).then(function () {
      btn.disabled = false;
      $("bulk-progress").setAttribute("data-finished", "1");
      if (!rejects.length) return;
      var csv = "\ufeff" + [csvLine(header.concat(["error"]))].concat(rejects.map(csvLine)).join("\r\n") + "\r\n";
      var a = $("bulk-rejects");
      window.ZXConsole.lastRejects = csv;
      a.hidden = false;
      a.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      a.download = "rejects.csv";
    });
  }

  // ---- seals and PDF signing ---------------------------------------------------
  // A card shows the stamp picture the seal file carries
  // (GET /seals/{id}/picture, fetched as a blob: the API may need a bearer
  // token an <img src> cannot send). Where there is none to show (an SVG
  // or OFD picture, or the request fails) it draws a stamp-like preview
  // from the name, marked as a preview.
  function showSealPicture(card, s) {
    api("GET", "/seals/" + encodeURIComponent(s.id) + "/picture", null, { raw: true, accept: "image/*" })
      .then(function (r) { return r.blob(); })
      .then(function (b) {
        var img = el("img", { alt: s.name, src: URL.createObjectURL(b), "data-seal-picture": s.id });
        var c = card.querySelector("canvas"), hint = card.querySelector("p.preview");
        if (c) card.replaceChild(img, c);
        if (hint) hint.remove();
      })
      .catch(function () { /* keep the drawn preview */ });
  }
  function drawStamp(c, name) {
    var g = c.getContext("2d"), r = c.width / 2 - 6;
    g.clearRect(0, 0, c.width, c.height);
    g.strokeStyle = g.fillStyle = "#c8161d";
    g.lineWidth = 5;
    g.beginPath(); g.arc(c.width / 2, c.height / 2, r, 0, 2 * Math.PI); g.stroke();
    g.font = "28px sans-serif"; g.textAlign = "center"; g.textBaseline = "middle";
    g.fillText("★", c.width / 2, c.height / 2);
    var chars = Array.from(name || "").slice(0, 16), span = Math.PI * 1.3, start = -Math.PI / 2 - span / 2;
    g.font = "15px sans-serif";
    chars.forEach(function (ch, i) {
      var a = chars.length > 1 ? start + span * i / (chars.length - 1) : -Math.PI / 2;
      g.save(); g.translate(c.width / 2 + (r - 16) * Math.cos(a), c.height / 2 + (r - 16) * Math.sin(a)); g.rotate(a + Math.PI / 2);
      g.fillText(ch, 0, 0); g.restore();
    });
  }
  function loadSeals() {
    api("GET", "/seals").then(function (r) {
      var seals = Array.isArray(r) ? r : (r && (r.items || r.seals)) || [];
      var list = clear($("seal-list")), sel = clear($("pdf-seal"));
      sel.appendChild(el("option", { value: "", text: "本机构默认印章 / the agency's default seal" }));
      seals.forEach(function (s) {
        var c = el("canvas", { width: 140, height: 140, "aria-hidden": "true" });
        drawStamp(c, s.name);
        var card = el("div.seal-card", { "data-seal": s.id }, c, el("p.hint.preview", null, t("（示意）", "(preview)")),
          el("p", null, el("strong", { text: s.name })),
          el("p.hint", { text: s.id || "" }),
          el("p.hint", { text: ZX.fmtTime(s.valid_from).slice(0, 10) + " — " + ZX.fmtTime(s.valid_until || s.valid_to).slice(0, 10) }),
          el("p", null, el("button", { type: "button", "data-download": s.id, onclick: function () { downloadSeal(s.id); } }, t("下载印章文件 (.esl)", "Download seal file (.esl)"))));
        list.appendChild(card);
        showSealPicture(card, s);
        sel.appendChild(el("option", { value: s.id, text: s.name }));
      });
      if (!seals.length) list.appendChild(el("p.empty", null, t("还没有印章。", "No seals yet.")));
    }).catch(function (e) { clear($("seal-error")).appendChild(ZX.problemText(e)); });
  }
  function downloadSeal(id) {
    api("GET", "/seals/" + encodeURIComponent(id), null, { raw: true, accept: "application/octet-stream" })
      .then(function (r) { return r.blob(); }).then(function (b) { ZX.download(b, id + ".esl"); })
      .catch(function (e) { clear($("seal-error")).appendChild(ZX.problemText(e)); });
  }
  function b64(buf) {
    var u = new Uint8Array(buf), s = "";
    for (var i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
    return btoa(s);
  }
  $("seal-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("seal-error")), name = $("seal-name").value.trim();
    if (!name) { err.appendChild(t("请填写印章名称。", "Give the seal a name.")); $("seal-name").focus(); return; }
    var pic = $("seal-picture").files[0];
    (pic ? pic.arrayBuffer().then(b64) : Promise.resolve(undefined)).then(function (picture) {
      return api("POST", "/seals", { name: name, type: $("seal-type").value, valid_days: +$("seal-days").value || 0, picture: picture });
    }).then(function () { ZX.toast("印章已制作", "Seal made"); $("seal-form").reset(); loadSeals(); })
      .catch(function (e) { err.appendChild(ZX.problemText(e)); });
  });
  $("pdf-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("pdf-error")), f = $("pdf-file").files[0];
    if (!f) { err.appendChild(t("请选择 PDF 文件。", "Choose a PDF file.")); return; }
    // The form takes millimetres; the API takes PDF points (1/72 inch).
    var pt = function (mm) { return (+mm * 72 / 25.4).toFixed(1); };
    var q = "?page=" + (+$("pdf-page").value || 1) + "&x=" + pt($("pdf-x").value) + "&y=" + pt($("pdf-y").value) +
      ($("pdf-seal").value ? "&seal=" + encodeURIComponent($("pdf-seal").value) : "");
    api("POST", "/pdf/sign" + q, new Blob([f], { type: "application/pdf" }), { raw: true, accept: "application/pdf" })
      .then(function (r) { return r.blob(); }).then(function (b) {
        var a = $("pdf-result"); a.hidden = false;
        a.href = URL.createObjectURL(b);
        a.download = f.name.replace(/\.pdf$/i, "") + "-signed.pdf";
        a.click();
      }).catch(function (e) { err.appendChild(ZX.problemText(e)); });
  });

  // ---- audit -------------------------------------------------------------------
  // Hashes come as base64 (JSON []byte); people compare them in hex.
  function hexOf(b64v) {
    try { return Array.from(atob(b64v || ""), function (c) { var h = c.charCodeAt(0).toString(16); return h.length < 2 ? "0" + h : h; }).join(""); }
    catch (e) { return String(b64v || ""); }
  }
  function loadAudit() {
    api("GET", "/audit?limit=200").then(function (r) {
      var items = Array.isArray(r) ? r : (r && (r.items || r.entries)) || [];
      var tb = clear(document.querySelector("#audit-table tbody"));
      items.forEach(function (a) {
        tb.appendChild(el("tr", { "data-seq": a.seq || a.id },
          el("td", { text: a.seq || a.id }), el("td", { text: ZX.fmtTime(a.at || a.time) }), el("td", { text: a.actor || "" }),
          el("td", { text: a.action || "" }), el("td", { text: a.object || a.target || "" }), el("td", { text: a.agency || "—" }),
          el("td.hash", { text: hexOf(a.hash).slice(0, 16), title: hexOf(a.hash) })));
      });
    }).catch(function (e) {
      var tb = clear(document.querySelector("#audit-table tbody"));
      tb.appendChild(el("tr", null, el("td", { colspan: "7" }, e.status === 403 ?
        t("审计日志仅管理员和发证机构可读；单张证照的记录见其详情页的“状态历史”。", "Only admins and issuers read the audit log; a license's own entries are in its status history.") : ZX.problemText(e))));
    });
  }
  $("audit-refresh").addEventListener("click", loadAudit);
  $("audit-verify").addEventListener("click", function () {
    var b = $("audit-chain");
    api("GET", "/audit/verify").then(function (r) {
      b.hidden = false; clear(b);
      if (r.ok || r.valid) { b.className = "badge ok"; b.appendChild(t("哈希链完整（" + (r.checked || r.count || 0) + " 条）", "Chain intact (" + (r.checked || r.count || 0) + " entries)")); }
      else {
        b.className = "badge bad";
        b.appendChild(t("哈希链校验失败：" + (r.error || ""), "Chain check failed: " + (r.error || "")));
        var row = document.querySelector('#audit-table tr[data-seq="' + (r.broken_at || r.first_bad) + '"]');
        if (row) row.classList.add("bad");
      }
    }).catch(function (e) { b.hidden = false; b.className = "badge bad"; clear(b).appendChild(ZX.problemText(e)); });
  });

  // ---- start ---------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    whoami().catch(function () { showLogin(true); });
  });
  window.ZXConsole = { openLicense: openLicense, search: search };
})();
