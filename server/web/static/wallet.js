// Wallet (持证人): enrol this device (an SM2 device key made in the browser
// by the project's Go code compiled to WebAssembly, kept in IndexedDB),
// claim licenses with a one-time code, list them, show a presentation QR
// that is signed by the device key, lives 60 s and is remade at 50 s, choose
// what to disclose for a purpose, and read the usage log (用证记录).
"use strict";

(function () {
  var $ = ZX.$, el = ZX.el, t = ZX.t, clear = ZX.clear, api = ZX.api;
  var LIFETIME = 60, REFRESH_AT = 50; // seconds
  var db = null, device = null, licenses = [], tokens = {}, types = {}, codeLists = {};
  var showing = null, timer = null, issuedAt = 0;

  // ---- IndexedDB: one "kv" store (device key, holder tokens) and one
  // "licenses" store keyed by license id. ------------------------------------
  function openDB() {
    return new Promise(function (resolve, reject) {
      var rq = indexedDB.open("zhengxin-wallet", 1);
      rq.onupgradeneeded = function () {
        var d = rq.result;
        if (!d.objectStoreNames.contains("kv")) d.createObjectStore("kv");
        if (!d.objectStoreNames.contains("licenses")) d.createObjectStore("licenses", { keyPath: "id" });
      };
      rq.onsuccess = function () { resolve(rq.result); };
      rq.onerror = function () { reject(rq.error); };
    });
  }
  function tx(store, mode, fn) {
    return new Promise(function (resolve, reject) {
      var x = db.transaction(store, mode), s = x.objectStore(store), rq = fn(s);
      x.oncomplete = function () { resolve(rq ? rq.result : undefined); };
      x.onerror = function () { reject(x.error); };
    });
  }
  function kvGet(k) { return tx("kv", "readonly", function (s) { return s.get(k); }); }
  function kvPut(k, v) { return tx("kv", "readwrite", function (s) { s.put(v, k); }); }
  function allLicenses() { return tx("licenses", "readonly", function (s) { return s.getAll(); }); }
  function putLicense(l) { return tx("licenses", "readwrite", function (s) { s.put(l); }); }

  // ---- the WebAssembly device-key module (cmd/zhengxin-wallet-wasm) ---------
  var wasmReady = null;
  function wasm() {
    if (wasmReady) return wasmReady;
    wasmReady = new Promise(function (resolve, reject) {
      if (!window.Go) { reject(new Error("wasm_exec.js missing")); return; }
      var go = new Go();
      var load = WebAssembly.instantiateStreaming
        ? WebAssembly.instantiateStreaming(fetch("/static/wallet.wasm"), go.importObject)
        : fetch("/static/wallet.wasm").then(function (r) { return r.arrayBuffer(); }).then(function (b) { return WebAssembly.instantiate(b, go.importObject); });
      load.then(function (res) {
        go.run(res.instance); // main registers zxWallet and then blocks
        if (window.zxWallet) resolve(window.zxWallet); else reject(new Error("wallet module did not start"));
      }).catch(reject);
    });
    return wasmReady;
  }
  function call(fn) {
    var args = Array.prototype.slice.call(arguments, 1);
    return wasm().then(function (w) {
      var r = w[fn].apply(null, args);
      if (r && r.error) throw new Error(r.error);
      return r;
    });
  }

  // ---- views ------------------------------------------------------------------
  function view(name) {
    ["w-enrol", "w-home", "w-claim", "w-show", "w-log"].forEach(function (v) { $(v).hidden = v !== name; });
    if (name !== "w-show") stopShowing();
    document.body.setAttribute("data-view", name);
    window.scrollTo(0, 0);
  }
  document.querySelectorAll("[data-back]").forEach(function (b) {
    b.addEventListener("click", function () { stopCamera(); view("w-home"); renderList(); });
  });

  // ---- enrolment ---------------------------------------------------------------
  function enrol(make) {
    var err = clear($("enrol-error"));
    $("enrol-btn").disabled = $("enrol-p256").disabled = true;
    make().then(function (d) { device = d; return kvPut("device", device); }).then(function () { home(); })
      .catch(function (e) { err.appendChild(t("启用失败：" + e.message, "Enrolment failed: " + e.message)); })
      .finally(function () { $("enrol-btn").disabled = $("enrol-p256").disabled = false; });
  }
  // SM2: the project's Go code in WebAssembly makes the key; the page keeps
  // its 32 bytes in IndexedDB (readable by scripts of this origin).
  $("enrol-btn").addEventListener("click", function () {
    enrol(function () {
      return call("newKey").then(function (k) {
        return { alg: "SM2", priv: k.private, pub: k.public, pubPEM: k.publicPEM, thumb: k.thumbprint, created: new Date().toISOString() };
      });
    });
  });
  // P-256: WebCrypto makes the key with extractable:false; IndexedDB keeps
  // the CryptoKey object, whose private half no script can read out.
  $("enrol-p256").addEventListener("click", function () {
    enrol(function () {
      var pair;
      return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]).then(function (p) {
        pair = p;
        return crypto.subtle.exportKey("spki", p.publicKey);
      }).then(function (spki) {
        var pemText = pem(new Uint8Array(spki));
        return call("thumbprint", pemText).then(function (r) {
          return { alg: "P-256", keyPair: pair, pubPEM: pemText, thumb: r.thumbprint, created: new Date().toISOString() };
        });
      });
    });
  });
  function pem(der) {
    var s = "";
    for (var i = 0; i < der.length; i++) s += String.fromCharCode(der[i]);
    return "-----BEGIN PUBLIC KEY-----\n" + btoa(s).replace(/(.{64})/g, "$1\n").replace(/\n$/, "") + "\n-----END PUBLIC KEY-----\n";
  }
  // makePresentation signs inside WebAssembly (SM2) or has Go prepare the
  // bytes and the browser sign them with the non-extractable key (P-256).
  function makePresentation(signed, fields, purpose, now) {
    if (device.alg !== "P-256") return call("present", device.priv, signed, fields, purpose, now);
    return call("draft", device.pubPEM, signed, fields, purpose, now).then(function (d) {
      return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, device.keyPair.privateKey, d.tbs).then(function (sig) {
        return call("finish", d.id, new Uint8Array(sig));
      }).then(function (f) { return { payload: f.payload, expires: d.expires }; });
    });
  }

  function home() {
    view("w-home");
    renderList();
    var kind = device.alg === "P-256" ? "P-256，不可导出" : "SM2";
    clear($("device-info")).appendChild(t("本设备密钥（" + kind + "）指纹：" + (device.thumb || ""), "Device key (" + (device.alg === "P-256" ? "P-256, non-extractable" : "SM2") + ") thumbprint: " + (device.thumb || "")));
    var m = /[#&]claim=([^&]+)/.exec(location.hash);
    if (m) { history.replaceState(null, "", location.pathname); openClaim(decodeURIComponent(m[1])); }
  }

  function typeName(key) { var ty = types[key]; return ty ? [ty.zh, ty.en] : [key, key]; }
  function renderList() {
    var ul = clear($("wallet-list"));
    $("wallet-empty").hidden = licenses.length > 0;
    licenses.forEach(function (l) {
      var n = typeName(l.type);
      var b = el("button.card", { type: "button", "data-id": l.id },
        el("span.t", null, t(n[0], n[1])), el("span.h", { text: l.holder_name || "" }),
        el("span.s", null, ZX.statusNames[l.status] ? t(ZX.statusNames[l.status][0], ZX.statusNames[l.status][1]) : l.status || ""));
      b.addEventListener("click", function () { show(l); });
      ul.appendChild(el("li", null, b));
    });
  }

  // ---- claim ---------------------------------------------------------------------
  function openClaim(code) {
    view("w-claim");
    clear($("claim-error"));
    $("claim-input").value = code || "";
    $("claim-input").focus();
  }
  $("claim-open").addEventListener("click", function () { openClaim(""); });
  $("claim-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = $("claim-input").value.replace(/[^0-9A-Za-z]/g, "").toUpperCase(), err = clear($("claim-error"));
    if (code.length !== 16) { err.appendChild(t("领取码应为 16 位字母和数字。", "A claim code has 16 letters and digits.")); return; }
    claim(code).catch(function (e) { err.appendChild(ZX.problemText(e)); });
  });
  // claim redeems the code anonymously: the answer carries the license and
  // a holder token bound to that license's holder. A wallet may hold
  // licenses of several holders (a person and their company), so it keeps
  // one token per holder ID.
  function claim(code) {
    return api("POST", "/holder/claim", { code: code, device_key: device.pubPEM }, { token: "" }).catch(function (e) {
      // A server that cannot bind device keys yet refuses the field; claim
      // without it and show the static QR (see show), saying so.
      if (e instanceof ZX.ApiError && e.status === 400 && /device_key/.test(JSON.stringify(e.problem))) {
        return api("POST", "/holder/claim", { code: code }, { token: "" });
      }
      throw e;
    }).then(function (r) {
      var l = r.license;
      if (!l) throw new Error("no license in answer");
      var hid = (l.holder_id || "").toUpperCase();
      if (r.token) tokens[hid] = r.token;
      return kvPut("tokens", tokens).then(function () { return putLicense(l); }).then(function () {
        licenses = licenses.filter(function (x) { return x.id !== l.id; }).concat([l]);
        ZX.toast("已领取：" + typeName(l.type)[0], "Claimed: " + typeName(l.type)[1]);
        home();
      });
    });
  }

  // Scanning the claim QR: BarcodeDetector where present, else jsQR.
  var stream = null, detector = null, cv = null;
  function stopCamera() { if (stream) stream.getTracks().forEach(function (x) { x.stop(); }); stream = null; $("claim-video").hidden = true; }
  $("claim-scan").addEventListener("click", function () {
    if (!navigator.mediaDevices) { ZX.toast("无法使用摄像头", "Camera unavailable"); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s; var v = $("claim-video"); v.srcObject = s; v.hidden = false; v.play();
      if ("BarcodeDetector" in window) { try { detector = new BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; } }
      requestAnimationFrame(scan);
    }).catch(function () { ZX.toast("无法打开摄像头", "Cannot open the camera"); });
  });
  function scanned(text) {
    stopCamera();
    var m = /[#&?]claim=([0-9A-Za-z-]+)/.exec(text);
    $("claim-input").value = m ? m[1] : text;
    $("claim-form").requestSubmit();
  }
  function scan() {
    if (!stream) return;
    var v = $("claim-video");
    if (v.readyState < 2) { requestAnimationFrame(scan); return; }
    if (detector) {
      detector.detect(v).then(function (c) { if (c.length) scanned(c[0].rawValue); else setTimeout(scan, 150); }).catch(function () { detector = null; scan(); });
      return;
    }
    cv = cv || document.createElement("canvas");
    cv.width = v.videoWidth; cv.height = v.videoHeight;
    var ctx = cv.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(v, 0, 0);
    var img = ctx.getImageData(0, 0, cv.width, cv.height), c = window.jsQR && jsQR(img.data, img.width, img.height);
    if (c && c.data) scanned(c.data); else setTimeout(scan, 200);
  }

  // ---- show: presentation QR with countdown ---------------------------------------
  function show(l) {
    showing = l;
    view("w-show");
    var n = typeName(l.type);
    clear($("show-title")).appendChild(t(n[0], n[1]));
    var ty = types[l.type] || { fields: [], profiles: [] };
    var sel = clear($("show-purpose"));
    (ty.profiles || []).forEach(function (p) { sel.appendChild(el("option", { value: p.key, text: p.zh + " " + p.en })); });
    sel.appendChild(el("option", { value: "custom", text: "自选 Custom" }));
    pickProfile();
    clear($("show-status"));
    if (l.status && l.status !== "valid") {
      var n2 = ZX.statusNames[l.status] || [l.status, l.status];
      $("show-status").appendChild(t("此证照已" + n2[0] + "，窗口核验将不予通过。", "This license is " + n2[1] + "; counters will not accept it."));
    }
  }
  function pickProfile() {
    var l = showing, ty = types[l.type] || { fields: [], profiles: [] }, key = $("show-purpose").value;
    var prof = (ty.profiles || []).filter(function (p) { return p.key === key; })[0];
    var on = prof ? prof.fields : (ty.fields || []).filter(function (f) { return f.visible; }).map(function (f) { return f.key; });
    var box = clear($("show-fields"));
    (ty.fields || []).forEach(function (f) {
      var id = "d-" + f.key, core = f.tag === 0; // the dates in the signed claims are always visible
      box.appendChild(el("label", { for: id }, el("input", { type: "checkbox", id: id, value: f.key, checked: core || on.indexOf(f.key) >= 0, disabled: core }),
        t(f.zh, f.en), core ? el("span.hint", null, t("（始终公开）", " (always shown)")) : null));
    });
    refresh();
  }
  $("show-purpose").addEventListener("change", pickProfile);
  $("show-fields").addEventListener("change", function () { $("show-purpose").value = "custom"; refresh(); });

  function disclosed() {
    return Array.prototype.map.call(document.querySelectorAll("#show-fields input:checked"), function (i) { return i.value; });
  }
  // refresh makes a fresh presentation: signed now by the device key over
  // the license, the chosen fields, the purpose and a new nonce.
  function refresh() {
    if (!showing) return;
    clearTimeout(timer);
    var err = clear($("show-error"));
    var now = Date.now();
    makePresentation(showing.signed, disclosed(), $("show-purpose").value, now).then(function (p) {
      issuedAt = now;
      var exp = p.expires || now + LIFETIME * 1000;
      var canvas = $("show-qr");
      ZX.drawQR(canvas, p.payload);
      canvas.removeAttribute("data-static");
      canvas.setAttribute("data-expires", String(exp));
      canvas.setAttribute("data-license", showing.id);
      tick();
    }).catch(function (e) {
      // A license the issuer did not bind to this device can only be shown
      // as its static QR, which proves the license but not who shows it.
      if (/not bound to a device key/.test(e.message) && showing.qr) {
        var canvas = $("show-qr");
        ZX.drawQR(canvas, showing.qr);
        canvas.setAttribute("data-static", "1");
        err.appendChild(t("此证照未绑定本设备，只能出示静态二维码（可被复制，窗口会提示）。", "This license is not bound to this device: only its static QR can be shown (it can be copied; the counter is told)."));
        $("show-seconds").textContent = "—";
        return;
      }
      $("show-qr").removeAttribute("data-payload");
      err.appendChild(t("无法生成出示码：" + e.message, "Cannot make the QR: " + e.message));
    });
  }
  function tick() {
    if (!showing) return;
    var left = Math.max(0, LIFETIME - Math.floor((Date.now() - issuedAt) / 1000));
    $("show-seconds").textContent = String(left);
    $("show-bar").value = left;
    if (LIFETIME - left >= REFRESH_AT) { refresh(); return; }
    timer = setTimeout(tick, 1000 - (Date.now() - issuedAt) % 1000);
  }
  function stopShowing() { showing = null; clearTimeout(timer); }
  document.addEventListener("visibilitychange", function () { if (!document.hidden && showing) refresh(); });

  // ---- usage log -----------------------------------------------------------------------
  $("log-open").addEventListener("click", function () {
    view("w-log");
    var ul = clear($("log-list"));
    var holders = Object.keys(tokens);
    Promise.all(holders.map(function (h) {
      return api("GET", "/holder/usage?limit=100", null, { token: tokens[h] }).then(function (r) { return (r && r.items) || []; }).catch(function () { return []; });
    })).then(function (lists) {
      var all = [].concat.apply([], lists).sort(function (a, b) { return a.at < b.at ? 1 : -1; });
      $("log-empty").hidden = all.length > 0;
      all.forEach(function (u) {
        var l = licenses.filter(function (x) { return x.id === u.license_id; })[0], n = l ? typeName(l.type) : [u.license_id, u.license_id];
        var v = { PASSED: ["通过", "passed"], FAILED: ["未通过", "failed"], INDETERMINATE: ["无法确定", "indeterminate"] }[u.verdict] || [u.verdict, u.verdict];
        ul.appendChild(el("li." + u.verdict, { "data-license": u.license_id },
          el("strong", null, t(n[0], n[1])), el("br"),
          el("span", { text: ZX.fmtTime(u.at) + " · " + [u.counter, u.operator].filter(Boolean).join(" / ") }), el("br"),
          el("span", null, t("事项：" + (u.service_item || "—") + " · 结果：" + v[0], "Item: " + (u.service_item || "—") + " · result: " + v[1]))));
      });
    });
  });

  // ---- start ---------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    ZX.licenseTypes().then(function (r) { types = r.byKey; codeLists = r.codeLists; })
      .catch(function () { }).then(openDB).then(function (d) {
      db = d;
      return Promise.all([kvGet("device"), kvGet("tokens"), allLicenses()]);
    }).then(function (r) {
      device = r[0]; tokens = r[1] || {}; licenses = r[2] || [];
      if (!device) { view("w-enrol"); return; }
      home();
      // Statuses change at the issuer: refresh them quietly.
      Object.keys(tokens).forEach(function (h) {
        api("GET", "/holder/licenses?limit=100", null, { token: tokens[h] }).then(function (p) {
          (p.items || []).forEach(function (nl) {
            var old = licenses.filter(function (x) { return x.id === nl.id; })[0];
            if (old && old.status !== nl.status) { old.status = nl.status; putLicense(old); }
          });
          renderList();
        }).catch(function () { });
      });
    }).catch(function (e) {
      document.body.appendChild(el("p.form-error", null, t("此浏览器不支持本地存储（IndexedDB），无法使用钱包。", "This browser has no local storage (IndexedDB); the wallet cannot work.")));
      console.error(e);
    });
  });
})();
