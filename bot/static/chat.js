/* Trợ lý Huế — web chat client. Plain JS, no dependencies, nothing global. */
(function () {
  "use strict";

  var SENDER_KEY = "trolyhue_sender";       // localStorage: conversation id
  var FONT_KEY = "trolyhue_big_text";       // localStorage: "1" when "Chữ to hơn" is on
  var HISTORY_KEY = "trolyhue_history";     // sessionStorage: visible conversation
  var HISTORY_LIMIT = 200;
  var CHAT_TIMEOUT_MS = 60000;
  var UPLOAD_TIMEOUT_MS = 120000;
  var MAX_PHOTO_SIDE = 1600;                // photos larger than this are scaled down
  var MAX_PHOTO_BYTES = 1500000;            // ... when the file is bigger than this

  var TEXT = {
    waiting: "Cháu đang trả lời…",
    uploading: "Cháu đang gửi ảnh…",
    locating: "Cháu đang lấy vị trí…",
    network: "Mạng đang chậm, bác thử lại giúp cháu nhé.",
    notSent: "Chưa gửi được",
    noLocation: "Cháu không lấy được vị trí. Bác nhập địa chỉ giúp cháu nhé.",
    locationDenied: "Cháu không được phép xem vị trí. Bác nhập địa chỉ giúp cháu nhé.",
    myLocation: "📍 Vị trí của tôi",
    notImage: "Tệp này không phải là ảnh. Bác chọn một tấm ảnh giúp cháu nhé.",
    uploadFailed: "Cháu chưa gửi được ảnh. Bác thử lại giúp cháu nhé.",
    photoAlt: "Ảnh bác đã gửi",
    botImageAlt: "Ảnh do trợ lý gửi",
    srBot: "Trợ lý nói:",
    srUser: "Bác nói:",
    choicesLabel: "Các lựa chọn"
  };

  // ---------- Storage helpers (storage may be unavailable in private modes) ----------

  function storageGet(store, key) {
    try { return window[store].getItem(key); } catch (e) { return null; }
  }
  function storageSet(store, key, value) {
    try { window[store].setItem(key, value); } catch (e) { /* ignore: quota or disabled */ }
  }

  function randomUUID() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;   // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80;   // RFC 4122 variant
    var hex = [];
    for (var j = 0; j < 16; j++) hex.push((bytes[j] + 0x100).toString(16).slice(1));
    return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" +
      hex.slice(6, 8).join("") + "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
  }

  function getSender() {
    var id = storageGet("localStorage", SENDER_KEY);
    if (!id || !/^web-[0-9a-zA-Z-]{8,}$/.test(id)) {
      id = "web-" + randomUUID();
      storageSet("localStorage", SENDER_KEY, id);
    }
    return id;
  }

  function loadHistory() {
    var raw = storageGet("sessionStorage", HISTORY_KEY);
    if (!raw) return [];
    try {
      var list = JSON.parse(raw);
      return Array.isArray(list) ? list.filter(function (m) {
        return m && (m.role === "user" || m.role === "bot");
      }) : [];
    } catch (e) {
      return [];
    }
  }

  // ---------- State ----------

  var els = {};
  var sender = "";
  var history = [];        // [{role, text, image, buttons, chosen, failed}]
  var rowOf = [];          // DOM row for history[i]
  var busy = false;
  var latestAnchor = null; // first element of the newest batch, for scrolling

  // ---------- Rendering ----------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;   // never innerHTML
    return node;
  }

  function safeImageUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      var u = new URL(url, window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:" || u.protocol === "blob:") ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function makeImage(url, alt, className) {
    var img = el("img", className || "");
    img.alt = alt;
    img.decoding = "async";
    img.src = url;
    img.addEventListener("load", function () { scrollToNewest(); });
    return img;
  }

  function renderEntry(entry, index) {
    var row = el("div", "row " + (entry.role === "user" ? "row-user" : "row-bot"));
    row.appendChild(el("span", "sr-only", entry.role === "user" ? TEXT.srUser : TEXT.srBot));

    var imageUrl = safeImageUrl(entry.image);
    var hasText = typeof entry.text === "string" && entry.text !== "";

    if (hasText || imageUrl) {
      var bubble = el("div", "bubble " + (entry.role === "user" ? "bubble-user" : "bubble-bot"));
      bubble.setAttribute("data-testid", entry.role === "user" ? "bubble-user" : "bubble-bot");
      if (hasText) bubble.appendChild(document.createTextNode(entry.text));
      if (imageUrl) {
        if (!hasText) bubble.classList.add("bubble-image");
        if (entry.role === "user") {
          bubble.appendChild(makeImage(imageUrl, TEXT.photoAlt, "thumb"));
        } else {
          bubble.appendChild(makeImage(imageUrl, TEXT.botImageAlt));
        }
      }
      row.appendChild(bubble);
    }

    if (entry.role === "user" && entry.failed) {
      row.appendChild(el("div", "failed-note", TEXT.notSent));
    }

    if (entry.role === "bot" && Array.isArray(entry.buttons) && entry.buttons.length) {
      var group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", TEXT.choicesLabel);
      entry.buttons.forEach(function (b) {
        if (!b) return;
        var title = String(b.title != null && b.title !== "" ? b.title : (b.payload || ""));
        var payload = String(b.payload != null && b.payload !== "" ? b.payload : title);
        if (!title) return;
        var btn = el("button", "choice", title);
        btn.type = "button";
        btn.setAttribute("data-testid", "choice");
        if (entry.chosen === title) btn.classList.add("chosen");
        btn.addEventListener("click", function () {
          onChoice(index, btn, title, payload);
        });
        group.appendChild(btn);
      });
      if (group.childNodes.length) row.appendChild(group);
    }

    return row;
  }

  function addEntry(entry) {
    history.push(entry);
    if (history.length > HISTORY_LIMIT) {
      history.splice(0, history.length - HISTORY_LIMIT);
      rerenderAll(); // indexes shifted: rebuild so choice handlers stay right
      saveHistory();
      return rowOf[rowOf.length - 1];
    }
    var row = renderEntry(entry, history.length - 1);
    rowOf.push(row);
    els.messages.appendChild(row);
    saveHistory();
    return row;
  }

  function replaceRow(index) {
    var fresh = renderEntry(history[index], index);
    els.messages.replaceChild(fresh, rowOf[index]);
    rowOf[index] = fresh;
    return fresh;
  }

  function rerenderAll() {
    els.messages.textContent = "";
    rowOf = history.map(function (entry, i) {
      var row = renderEntry(entry, i);
      els.messages.appendChild(row);
      return row;
    });
  }

  /** A short note from the assistant (not stored, not sent to the server). */
  function addNote(text) {
    var row = el("div", "row row-bot");
    row.appendChild(el("span", "sr-only", TEXT.srBot));
    var bubble = el("div", "bubble bubble-bot bubble-note", text);
    bubble.setAttribute("data-testid", "bubble-bot");
    row.appendChild(bubble);
    els.messages.appendChild(row);
    latestAnchor = row;
    scrollToNewest();
  }

  function saveHistory() {
    storageSet("sessionStorage", HISTORY_KEY, JSON.stringify(history));
  }

  /** Choices are usable only on assistant messages after the last delivered user message. */
  function refreshControls() {
    var lastUser = -1;
    for (var i = history.length - 1; i >= 0; i--) {
      if (history[i].role === "user" && !history[i].failed) { lastUser = i; break; }
    }
    rowOf.forEach(function (row, idx) {
      var live = !busy && idx > lastUser && history[idx].role === "bot" && !history[idx].chosen;
      var buttons = row.querySelectorAll("button.choice");
      for (var k = 0; k < buttons.length; k++) buttons[k].disabled = !live;
    });
    els.send.disabled = busy;
    els.helpers.forEach(function (b) { b.disabled = busy; });
    els.messages.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function setBusy(on, label) {
    busy = on;
    els.status.textContent = on ? (label || TEXT.waiting) : "";
    refreshControls();
    if (on) scrollToNewest();
  }

  /** Scroll so the newest batch is visible; if it is taller than the view, show its start. */
  function scrollToNewest() {
    window.requestAnimationFrame(function () {
      var sc = els.chat;
      var bottom = sc.scrollHeight - sc.clientHeight;
      var target = bottom;
      if (latestAnchor && latestAnchor.isConnected) {
        var anchorTop = latestAnchor.getBoundingClientRect().top - sc.getBoundingClientRect().top + sc.scrollTop - 12;
        if (anchorTop < target) target = Math.max(0, anchorTop);
      }
      sc.scrollTop = target;
    });
  }

  // ---------- Focus handling after a request (buttons were disabled while busy) ----------

  var coarsePointer = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  function restoreFocus(previous, newRows) {
    if (coarsePointer || !previous) return; // touch screens: moving focus only opens keyboards
    var active = document.activeElement;
    if (active && active !== document.body && !active.disabled) return; // focus is fine
    var firstChoice = null;
    for (var i = 0; i < newRows.length && !firstChoice; i++) {
      firstChoice = newRows[i].querySelector("button.choice:not(:disabled)");
    }
    if (firstChoice) { firstChoice.focus({ preventScroll: true }); return; }
    if (previous && previous.isConnected && !previous.disabled) {
      previous.focus({ preventScroll: true });
      return;
    }
    if (!coarsePointer) els.input.focus({ preventScroll: true }); // no surprise keyboard on phones
  }

  // ---------- Network ----------

  function fetchWithTimeout(url, options, ms) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = null;
    if (controller) {
      options.signal = controller.signal;
      timer = window.setTimeout(function () { controller.abort(); }, ms);
    }
    return fetch(url, options).finally(function () {
      if (timer) window.clearTimeout(timer);
    });
  }

  function readJson(res) {
    return res.json().catch(function () { return null; });
  }

  function errorText(data) {
    return data && typeof data.error === "string" && data.error.trim() ? data.error.trim() : TEXT.network;
  }

  /**
   * Send `text` to the assistant. `shown` is what appears as the user's bubble
   * ({text} or {image}); null sends silently. `onFail` runs before controls are
   * re-enabled when the message was not delivered. Resolves to true when answered.
   */
  function send(text, shown, focusBefore, onFail) {
    if (busy) return Promise.resolve(false);
    var userIndex = -1;
    if (shown) {
      var row = addEntry({ role: "user", text: shown.text || "", image: shown.image || null });
      userIndex = history.length - 1;
      latestAnchor = row;
    }
    var previous = shown ? (focusBefore || document.activeElement) : null;
    setBusy(true, TEXT.waiting);

    return fetchWithTimeout("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ sender: sender, text: text })
    }, CHAT_TIMEOUT_MS).then(function (res) {
      return readJson(res).then(function (data) {
        if (!res.ok) throw new Error(errorText(data));
        return data;
      });
    }, function () {
      throw new Error(TEXT.network);
    }).then(function (data) {
      var messages = data && Array.isArray(data.messages) ? data.messages : [];
      var newRows = [];
      messages.forEach(function (m) {
        if (!m || typeof m !== "object") return;
        var entry = {
          role: "bot",
          text: typeof m.text === "string" ? m.text : "",
          image: typeof m.image === "string" ? m.image : null,
          buttons: Array.isArray(m.buttons) ? m.buttons.filter(function (b) {
            return b && typeof b === "object";
          }).map(function (b) {
            return { title: b.title == null ? "" : String(b.title), payload: b.payload == null ? "" : String(b.payload) };
          }) : []
        };
        if (!entry.text && !entry.image && !entry.buttons.length) return;
        newRows.push(addEntry(entry));
      });
      if (newRows.length) latestAnchor = newRows[0];
      setBusy(false);
      scrollToNewest();
      restoreFocus(previous, newRows);
      return true;
    }).catch(function (err) {
      if (userIndex >= 0 && history[userIndex]) {
        history[userIndex].failed = true;
        replaceRow(userIndex);
        saveHistory();
      }
      if (onFail) onFail();
      setBusy(false);
      addNote(err && err.message ? err.message : TEXT.network);
      restoreFocus(previous, []);
      return false;
    });
  }

  // ---------- User actions ----------

  function onSubmit(ev) {
    if (ev) ev.preventDefault();
    if (busy) return;
    var text = els.input.value.trim();
    if (!text) { els.input.focus(); return; }
    els.input.value = "";
    autoGrow();
    send(text, { text: text }, els.input).then(function (ok) {
      if (!ok && !els.input.value) { els.input.value = text; autoGrow(); } // easy retry
    });
  }

  function onChoice(index, btn, title, payload) {
    if (busy || !history[index]) return;
    history[index].chosen = title;
    saveHistory();
    btn.classList.add("chosen");       // keep the element: focus stays in place
    send(payload, { text: title }, btn, function () {
      // Not delivered: let the user pick again.
      if (history[index]) delete history[index].chosen;
      saveHistory();
      btn.classList.remove("chosen");
    });
  }

  function onHelper(ev) {
    var btn = ev.currentTarget;
    if (busy) return;
    send(btn.getAttribute("data-send"), { text: btn.getAttribute("data-show") }, btn);
  }

  function onLocation() {
    if (busy) return;
    var btn = els.locationBtn;
    if (!navigator.geolocation || typeof navigator.geolocation.getCurrentPosition !== "function") {
      addNote(TEXT.noLocation);
      return;
    }
    setBusy(true, TEXT.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      setBusy(false);
      var payload = "/inform" + JSON.stringify({
        lat: pos.coords.latitude.toFixed(6),
        long: pos.coords.longitude.toFixed(6)
      });
      send(payload, { text: TEXT.myLocation }, btn);
    }, function (err) {
      setBusy(false);
      addNote(err && err.code === 1 ? TEXT.locationDenied : TEXT.noLocation);
      restoreFocus(btn, []);
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  /** Scale big photos down before upload (slow mobile networks); falls back to the original. */
  function shrinkPhoto(file) {
    if (file.size <= MAX_PHOTO_BYTES || typeof createImageBitmap !== "function" ||
        !/^image\/(jpeg|png|webp)$/.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(bmp.width, bmp.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      if (bmp.close) bmp.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size ? blob : file);
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  function onPhotoChosen() {
    var file = els.photoInput.files && els.photoInput.files[0];
    els.photoInput.value = "";             // allow choosing the same file again
    if (!file || busy) return;
    var btn = els.photoBtn;
    if (file.type && file.type.indexOf("image/") !== 0) {
      addNote(TEXT.notImage);
      return;
    }
    setBusy(true, TEXT.uploading);
    shrinkPhoto(file).then(function (blob) {
      var name = blob === file ? (file.name || "anh.jpg") : (file.name || "anh").replace(/\.[^.]*$/, "") + ".jpg";
      var form = new FormData();
      form.append("photo", blob, name);
      return fetchWithTimeout("/api/upload", { method: "POST", body: form }, UPLOAD_TIMEOUT_MS)
        .then(function (res) {
          return readJson(res).then(function (data) {
            if (!res.ok) throw new Error(data && data.error ? errorText(data) : TEXT.uploadFailed);
            if (!data || typeof data.url !== "string" || !data.url) throw new Error(TEXT.uploadFailed);
            return data.url;
          });
        }, function () {
          throw new Error(TEXT.network);
        });
    }).then(function (url) {
      setBusy(false);
      send("/inform" + JSON.stringify({ photo_url: url }), { image: url }, btn);
    }).catch(function (err) {
      setBusy(false);
      addNote(err && err.message ? err.message : TEXT.uploadFailed);
      restoreFocus(btn, []);
    });
  }

  // ---------- Text box: Enter sends, Shift+Enter new line, grows with the text ----------

  function autoGrow() {
    var ta = els.input;
    var max = Math.max(80, window.innerHeight * 0.3);
    ta.style.height = "auto";
    var wanted = ta.scrollHeight + 6;     // + top and bottom border
    ta.style.height = Math.min(wanted, max) + "px";
    ta.style.overflowY = wanted > max ? "auto" : "hidden";
  }

  function onKeyDown(ev) {
    if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
    ev.preventDefault();
    onSubmit();
  }

  // ---------- Font size setting ----------

  function applyFont(big) {
    document.documentElement.classList.toggle("big-text", big);
    els.fontToggle.setAttribute("aria-pressed", big ? "true" : "false");
  }

  function onFontToggle() {
    var big = els.fontToggle.getAttribute("aria-pressed") !== "true";
    applyFont(big);
    storageSet("localStorage", FONT_KEY, big ? "1" : "0");
    autoGrow();
    scrollToNewest();
  }

  // ---------- Start ----------

  function init() {
    els.chat = document.getElementById("chat");
    els.messages = document.getElementById("messages");
    els.status = document.getElementById("status");
    els.form = document.getElementById("composer");
    els.input = document.getElementById("input");
    els.send = document.getElementById("send");
    els.fontToggle = document.getElementById("font-toggle");
    els.locationBtn = document.getElementById("location-btn");
    els.photoBtn = document.getElementById("photo-btn");
    els.photoInput = document.getElementById("photo-input");
    els.helpers = Array.prototype.slice.call(document.querySelectorAll(".helper"));

    applyFont(storageGet("localStorage", FONT_KEY) === "1");
    sender = getSender();

    els.form.addEventListener("submit", onSubmit);
    els.input.addEventListener("keydown", onKeyDown);
    els.input.addEventListener("input", autoGrow);
    els.fontToggle.addEventListener("click", onFontToggle);
    els.helpers.forEach(function (b) {
      if (b.hasAttribute("data-send")) b.addEventListener("click", onHelper);
    });
    els.locationBtn.addEventListener("click", onLocation);
    els.photoBtn.addEventListener("click", function () { if (!busy) els.photoInput.click(); });
    els.photoInput.addEventListener("change", onPhotoChosen);
    window.addEventListener("resize", function () { scrollToNewest(); });

    autoGrow();
    history = loadHistory();
    rerenderAll();
    refreshControls();
    scrollToNewest();

    if (!history.length) send("/greet", null);  // silent: the assistant greets first
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
