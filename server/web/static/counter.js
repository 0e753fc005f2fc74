// Service counter: a scan-gun input (focused on load and after every
// verdict; Enter submits), camera scanning (BarcodeDetector, else the
// vendored jsQR, else the frame goes to the server), drag-and-drop of PDFs
// and QR pictures, a full-screen verdict, the service item's materials with
// the ones a verified e-license exempts (两个免于提交), and the usage record
// (用证记录).
"use strict";

(function () {
  var $ = ZX.$, el = ZX.el, t = ZX.t, tx = ZX.tx, clear = ZX.clear, api = ZX.api;
  var items = [], types = {}, codeLists = {}, me = null;
  var verified = {}; // license type key -> license id, for the citizen at the counter now
  var busy = false;

  function store(k, v) { try { if (v === undefined) return localStorage.getItem(k) || ""; localStorage.setItem(k, v); } catch (e) { return ""; } }
  function focusScan() { $("scan-input").focus(); }

  // ---- who is at the counter ------------------------------------------------
  function whoami() {
    function show() {
      var w = clear($("counter-who"));
      if (me) { w.appendChild(t("已登录：" + me.name, "Signed in: " + me.name)); $("counter-login").hidden = true; }
      else { w.appendChild(t("未登录：可以核验，但不保存用证记录。", "Not signed in: verifying works, uses are not recorded.")); $("counter-login").hidden = false; }
    }
    return api("GET", "/session").then(function (p) {
      me = p && p.role ? p : null;
      if (me && me.csrf_token) ZX.setCSRF(me.csrf_token);
      show();
    }, function () { me = null; show(); });
  }
  $("counter-login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var err = clear($("cl-error")), tok = $("cl-token").value.trim(), p;
    if (tok) { ZX.setToken(tok); p = Promise.resolve(); }
    else p = api("POST", "/session", { name: $("cl-user").value.trim(), password: $("cl-pass").value }, { token: "" })
      .then(function (r) { ZX.setCSRF(r && (r.csrf_token || r.csrf)); });
    p.then(whoami).then(function () {
      $("cl-pass").value = ""; $("cl-token").value = "";
      if (!me) throw new ZX.ApiError(401, {});
      focusScan();
    }).catch(function (e) { ZX.setToken(""); err.appendChild(ZX.problemText(e)); });
  });

  // ---- service items and materials --------------------------------------------
  function loadItems() {
    return fetch("/static/items.json").then(function (r) { return r.json(); }).then(function (d) {
      items = d.items || [];
      var s = clear($("item-select"));
      s.appendChild(el("option", { value: "", text: "— 请选择 / choose —" }));
      items.forEach(function (it) { s.appendChild(el("option", { value: it.key, text: it.zh + " " + it.en })); });
      s.value = store("zx_item");
      renderMaterials();
    });
  }
  function currentItem() { var k = $("item-select").value; return items.filter(function (i) { return i.key === k; })[0]; }
  function renderMaterials() {
    var ul = clear($("materials")), it = currentItem(), n = 0, ex = 0;
    if (!it) { clear($("exempt-summary")); return; }
    it.materials.forEach(function (m) {
      n++;
      var id = m.license_type && verified[m.license_type];
      if (id) ex++;
      ul.appendChild(el("li." + (id ? "exempt" : "needed"), { "data-license-type": m.license_type || "" },
        el("span", null, t(m.zh, m.en)),
        el("span.tag", null, id ? t("✓ 免于提交（电子证照已核验）", "✓ Exempt (e-license verified)") :
          m.license_type ? t("可用电子证照", "E-license accepted") : t("需提交", "Required"))));
    });
    clear($("exempt-summary")).appendChild(t("共 " + n + " 项材料，" + ex + " 项免于提交。", n + " materials, " + ex + " exempt."));
  }
  $("item-select").addEventListener("change", function () { store("zx_item", $("item-select").value); renderMaterials(); focusScan(); });
  $("next-citizen").addEventListener("click", function () { verified = {}; clear($("recent")); renderMaterials(); focusScan(); });

  function loadTypes() {
    return ZX.licenseTypes().then(function (r) { types = r.byKey; codeLists = r.codeLists; }).catch(function () { });
  }

  // ---- verification -----------------------------------------------------------
  // verify sends what was presented to POST /verify: QR text as text/plain,
  // a file as itself (application/pdf, image/*, or octet-stream for seals).
  function verify(body) {
    if (busy) return Promise.resolve();
    busy = true;
    document.body.classList.add("busy");
    return api("POST", "/verify", body, { contentType: "text/plain; charset=utf-8" })
      .then(showReport)
      .catch(function (e) {
        if (e instanceof ZX.ApiError && e.problem && e.problem.verdict) return showReport(e.problem);
        if (e instanceof ZX.ApiError && e.problem && e.problem.code === "qr_not_found") {
          ZX.toast("图片中未找到二维码", "No QR code found in the picture"); focusScan(); return;
        }
        showReport({ verdict: "INDETERMINATE", reason: "TRY_LATER", message: { zh: "核验服务暂时不可用，请稍后再试。", en: "The verification service is unavailable; try again shortly." }, _error: e });
      })
      .finally(function () { busy = false; document.body.classList.remove("busy"); });
  }

  var words = { PASSED: ["通过", "PASSED"], FAILED: ["未通过", "FAILED"], INDETERMINATE: ["无法确定", "INDETERMINATE"] };
  function fieldLabel(ty, k) {
    var f = ty && (ty.fields || []).filter(function (x) { return (x.key || x.name) === k; })[0];
    var common = { type: ["证照类型", "License type"], id: ["电子证照标识", "License ID"], issuer_code: ["发证机构代码", "Issuer code"], license_id: ["证照编号", "License ID"], holder_name: ["持证人", "Holder"], holder_id: ["证件号码", "ID number"], status: ["状态", "Status"], valid_from: ["有效期自", "Valid from"], valid_to: ["有效期至", "Valid until"], valid_until: ["有效期至", "Valid until"], issuer: ["发证机构", "Issuer"], purpose: ["出示目的", "Purpose"] };
    if (f) return [f.zh || k, f.en || k];
    return common[k] || [k, k];
  }
  function fieldValue(ty, k, v) {
    if (v === null || v === undefined) return "";
    if (k === "type" && types[v]) return types[v].zh + " " + types[v].en;
    var f = ty && (ty.fields || []).filter(function (x) { return (x.key || x.name) === k; })[0];
    var ct = ZX.codeText(f, v, codeLists);
    if (ct) return ct;
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  function subjectType(sub) { return sub && (sub.type || sub.license_type || sub.type_key); }
  function subjectID(sub) { return sub && (sub.id || sub.license_id || sub.identifier); }

  function showReport(r) {
    var v = r.verdict || "INDETERMINATE", box = $("verdict"), w = words[v] || [v, v];
    box.className = "verdict " + v;
    box.setAttribute("data-verdict", v);
    box.setAttribute("data-reason", r.reason || "");
    clear($("verdict-word")).appendChild(el("span", { text: w[0] + " " + w[1] }));
    var m = r.message || {};
    $("verdict-msg-zh").textContent = m.zh || "";
    $("verdict-msg-en").textContent = m.en || "";
    $("verdict-reason").textContent = r.reason || "";
    $("verdict-reason").hidden = !r.reason;
    $("verdict-kind").textContent = r.kind || "";
    var sub = r.subject || {}, ty = types[subjectType(sub)], dl = clear($("verdict-fields"));
    // The subject of a license is {id, type, type_name, issuer_code,
    // fields: {key: {label, label_en, value, display}}, holder_bound, ...};
    // of a document, a flat map of facts.
    var rows = [];
    if (sub.type) rows.push(["type", fieldLabel(ty, "type"), ty ? ty.zh + " " + ty.en : (sub.type_name || sub.type)]);
    if (subjectID(sub)) rows.push(["id", fieldLabel(ty, "id"), subjectID(sub)]);
    if (sub.fields && typeof sub.fields === "object") {
      Object.keys(sub.fields).forEach(function (k) {
        var f = sub.fields[k];
        if (f && typeof f === "object") rows.push([k, [f.label || fieldLabel(ty, k)[0], f.label_en || fieldLabel(ty, k)[1]], f.display || f.value || ""]);
        else rows.push([k, fieldLabel(ty, k), fieldValue(ty, k, f)]);
      });
    }
    Object.keys(sub).forEach(function (k) {
      if (["type", "id", "license_id", "identifier", "type_name", "fields", "holder_bound", "status_list", "status_index"].indexOf(k) >= 0) return;
      rows.push([k, fieldLabel(ty, k), fieldValue(ty, k, sub[k])]);
    });
    // A static QR proves what the license says, never who shows it, even
    // when the license itself is bound to a device.
    if (r.kind === "license-qr") rows.push(["holder_bound", ["出示方式", "Shown as"], "静态二维码，未绑定持证人设备 / static QR, not bound to the holder's device"]);
    dl.hidden = rows.length === 0;
    $("verdict-unverified").hidden = rows.length === 0 || v === "PASSED";
    rows.forEach(function (row) {
      dl.appendChild(el("dt", { "data-field": row[0] }, t(row[1][0], row[1][1])));
      dl.appendChild(el("dd", { "data-field": row[0], text: row[2] }));
    });
    var ol = clear($("verdict-checks"));
    (r.signatures || []).forEach(function (s) {
      (s.checks || []).forEach(function (c) {
        // An advisory check that did not pass (a PDF signature's timestamp
        // that could not be used) was set aside: a warning, not a failure.
        var mark = c.result === "PASSED" ? "✓ " : c.advisory ? "⚠ " : c.result === "FAILED" ? "✗ " : "? ";
        ol.appendChild(el("li", { "data-result": c.result, text: mark + c.name + (c.reason ? " — " + c.reason : "") + (c.detail ? " (" + c.detail + ")" : "") }));
      });
    });
    clear($("verdict-recorded"));
    box.hidden = false;
    box.focus();
    if (v === "PASSED" && subjectType(sub)) { verified[subjectType(sub)] = subjectID(sub) || true; renderMaterials(); }
    addRecent(r, w, ty);
    record(r);
  }

  // addRecent keeps a short list of this citizen's verifications beside
  // the scan input, so the clerk sees what was already checked.
  function addRecent(r, w, ty) {
    var sub = r.subject || {}, f = sub.fields || {}, name = f.holder_name && (f.holder_name.display || f.holder_name.value);
    var what = ty ? ty.zh : (sub.type_name || r.kind || "");
    $("recent").insertBefore(el("li." + (r.verdict || "INDETERMINATE"), null,
      el("strong", { text: w[0] + " " }), document.createTextNode(new Date().toTimeString().slice(0, 8) + " · " + what + (name ? " · " + name : "")),
      r.reason ? el("code", { text: " " + r.reason }) : null), $("recent").firstChild);
  }

  // record writes the usage record (用证记录) for a verification that named
  // a license: who (the signed-in counter), which item, when (server time),
  // the verdict. The holder sees it in the wallet's usage log.
  function record(r) {
    var id = subjectID(r.subject), it = currentItem(), out = $("verdict-recorded");
    if (!id || typeof id !== "string") return;
    if (!me) { out.appendChild(t("未登录窗口，本次用证未记录。", "Counter not signed in: this use was not recorded.")); return; }
    var disclosed = r.subject && r.subject.fields && typeof r.subject.fields === "object" ? Object.keys(r.subject.fields) : undefined;
    api("POST", "/usage", { license_id: id, service_item: it ? it.zh : "未选择事项", verdict: r.verdict, reason: r.reason || undefined, disclosed: disclosed })
      .then(function () { clear(out).appendChild(t("已记录用证：" + (it ? it.zh : "未选事项") + "。", "Use recorded: " + (it ? it.en : "no item chosen") + ".")); out.setAttribute("data-recorded", "1"); })
      .catch(function (e) { clear(out).appendChild(t("用证记录保存失败。", "Could not record the use.")); out.appendChild(document.createTextNode(" ")); out.appendChild(ZX.problemText(e)); });
  }

  function closeVerdict() { $("verdict").hidden = true; $("scan-input").value = ""; focusScan(); }
  $("verdict-close").addEventListener("click", closeVerdict);
  document.addEventListener("keydown", function (e) {
    if ($("verdict").hidden) return;
    if (e.key === "Enter" || e.key === "Escape") { e.preventDefault(); closeVerdict(); }
    // The next scan starts while the verdict is up: hand the keystrokes to
    // the scan input (moving focus in keydown sends the character there).
    else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) closeVerdict();
  });

  // A scan gun is a keyboard: it types the QR text and presses Enter.
  $("scan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = $("scan-input").value.trim();
    if (!v) return;
    verify(v).then(function () { $("scan-input").value = ""; });
  });

  // ---- files: choose or drop ------------------------------------------------------
  function verifyFile(f) {
    if (!f) return;
    if (f.size > 50 << 20) { ZX.toast("文件超过 50 MB", "File over 50 MB"); return; }
    var type = f.type || (/\.pdf$/i.test(f.name) ? "application/pdf" : "application/octet-stream");
    verify(new Blob([f], { type: type }));
  }
  $("file-input").addEventListener("change", function () { verifyFile($("file-input").files[0]); $("file-input").value = ""; });
  var zone = $("drop-zone");
  ["dragenter", "dragover"].forEach(function (n) { document.addEventListener(n, function (e) { e.preventDefault(); zone.classList.add("dragover"); }); });
  ["dragleave", "dragend"].forEach(function (n) { document.addEventListener(n, function (e) { if (e.target === zone || e.target === document.documentElement) zone.classList.remove("dragover"); }); });
  document.addEventListener("drop", function (e) {
    e.preventDefault(); zone.classList.remove("dragover");
    if (e.dataTransfer.files.length) verifyFile(e.dataTransfer.files[0]);
    else { var txt = e.dataTransfer.getData("text/plain"); if (txt) verify(txt.trim()); }
  });

  // ---- camera ------------------------------------------------------------------------
  var stream = null, detector = null, lastServerTry = 0, frameCanvas = null;
  function cameraStatus(zh, en) { clear($("camera-status")).appendChild(t(zh, en)); }
  $("camera-btn").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { ZX.toast("此浏览器不能使用摄像头（需要 HTTPS）", "This browser cannot use the camera (HTTPS needed)"); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      var v = $("camera-video"); v.srcObject = s; v.play();
      $("camera-box").hidden = false;
      if ("BarcodeDetector" in window) {
        try { detector = new BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
      }
      cameraStatus(detector ? "正在识别（浏览器内置识别）…" : (window.jsQR ? "正在识别（jsQR）…" : "正在识别（服务器识别）…"),
        detector ? "Scanning (built-in detector)…" : (window.jsQR ? "Scanning (jsQR)…" : "Scanning (server side)…"));
      requestAnimationFrame(scanFrame);
    }).catch(function () { ZX.toast("无法打开摄像头", "Cannot open the camera"); });
  });
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); });
    stream = null; $("camera-box").hidden = true; focusScan();
  }
  $("camera-stop").addEventListener("click", stopCamera);
  function found(text) { stopCamera(); verify(text); }
  function scanFrame() {
    if (!stream) return;
    var v = $("camera-video");
    if (v.readyState < 2 || busy || !$("verdict").hidden) { requestAnimationFrame(scanFrame); return; }
    if (detector) {
      detector.detect(v).then(function (codes) {
        if (codes.length) found(codes[0].rawValue); else setTimeout(function () { requestAnimationFrame(scanFrame); }, 120);
      }).catch(function () { detector = null; requestAnimationFrame(scanFrame); });
      return;
    }
    frameCanvas = frameCanvas || document.createElement("canvas");
    var w = v.videoWidth, h = v.videoHeight, s = Math.min(1, 800 / Math.max(w, h));
    frameCanvas.width = Math.round(w * s); frameCanvas.height = Math.round(h * s);
    var ctx = frameCanvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, frameCanvas.width, frameCanvas.height);
    if (window.jsQR) {
      var img = ctx.getImageData(0, 0, frameCanvas.width, frameCanvas.height);
      var code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) { found(code.data); return; }
      setTimeout(function () { requestAnimationFrame(scanFrame); }, 150);
      return;
    }
    // No decoder in the page: let the server find the QR in the frame, at
    // most every 1.5 s so a counter does not flood the rate limit.
    var now = Date.now();
    if (now - lastServerTry > 1500) {
      lastServerTry = now;
      frameCanvas.toBlob(function (b) {
        api("POST", "/verify", b).then(function (r) { stopCamera(); showReport(r); }).catch(function () { requestAnimationFrame(scanFrame); });
      }, "image/jpeg", 0.85);
      return;
    }
    setTimeout(function () { requestAnimationFrame(scanFrame); }, 300);
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusScan();
    // Do not steal focus from a field the clerk is already typing in.
    Promise.all([loadItems(), loadTypes(), whoami()]).then(function () {
      var a = document.activeElement;
      if (!a || a === document.body || a.id === "scan-input") focusScan();
    });
  });
  // Clicking anywhere that is not a control brings the cursor back to the
  // scan input, so the next scan is never typed into nowhere.
  document.addEventListener("click", function (e) {
    if (!e.target.closest("input, select, button, label, summary, a, details, video")) focusScan();
  });
})();
