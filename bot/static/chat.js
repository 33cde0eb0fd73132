/* Trợ lý Huế — web chat client. Plain JS, no dependencies, nothing global. */
(function () {
  "use strict";

  var SENDER_KEY = "trolyhue_sender";       // localStorage: conversation id
  var FONT_KEY = "trolyhue_big_text";       // localStorage: "1" when "Chữ to hơn" is on
  var SPEAK_KEY = "trolyhue_speak";         // localStorage: "1" when "Đọc to câu trả lời" is on
  var HISTORY_KEY = "trolyhue_history";     // sessionStorage: visible conversation
  var HISTORY_LIMIT = 200;
  var CHAT_TIMEOUT_MS = 60000;
  var UPLOAD_TIMEOUT_MS = 120000;
  var VOICE_TIMEOUT_MS = 120000;            // upload + recognition + the answer
  var MIN_HOLD_MS = 500;                    // shorter presses are taken for taps: nothing is sent
  var MAX_RECORD_MS = 59500;                // the server takes up to 60 s; stop just before
  var SPEECH_KEY_RE = /^[0-9a-f]{32}$/;     // GET /api/speech/<key>.mp3
  // First the server's favourite; Safari records only MP4/AAC.
  var RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/ogg",
    "audio/mp4;codecs=mp4a.40.2", "audio/mp4", "audio/aac"];
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
    srUserVoice: "Bác nói qua micrô:",
    choicesLabel: "Các lựa chọn",
    talk: "Giữ để nói",
    talkRecording: ["Đang nghe…", "thả ra để gửi"],   // two parts: a narrow button breaks between them
    talkOff: "Micrô không dùng được",
    talkOffHint: "Bác nhập chữ giúp cháu nhé.",
    seconds: " giây",
    holdLonger: "Bác giữ nút trong lúc nói nghe.",
    noSound: "Cháu chưa thu được tiếng nào. Bác giữ nút trong lúc nói giúp cháu nhé.",
    hearing: "Cháu đang nghe lại lời bác…",
    noMic: "Cháu không dùng được micrô. Bác nhập chữ giúp cháu nhé.",
    micBusy: "Cháu chưa mở được micrô. Bác thử lại giúp cháu nhé.",
    listen: "Nghe",
    stopListen: "Dừng",
    cannotSpeak: "Cháu chưa đọc to được câu này. Bác thử lại sau giúp cháu nhé."
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
  var history = [];        // [{role, text, image, buttons, chosen, failed, voice, speech}]
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
    var spoken = entry.role === "user" && entry.voice === true;
    row.appendChild(el("span", "sr-only", entry.role === "user" ? (spoken ? TEXT.srUserVoice : TEXT.srUser) : TEXT.srBot));

    var imageUrl = safeImageUrl(entry.image);
    var hasText = typeof entry.text === "string" && entry.text !== "";

    if (hasText || imageUrl) {
      var bubble = el("div", "bubble " + (entry.role === "user" ? "bubble-user" : "bubble-bot"));
      bubble.setAttribute("data-testid", entry.role === "user" ? "bubble-user" : "bubble-bot");
      if (spoken) {
        bubble.classList.add("bubble-voice");
        bubble.setAttribute("data-voice", "true");
        bubble.appendChild(el("span", "voice-mark", "🎤")).setAttribute("aria-hidden", "true");
      }
      if (hasText) bubble.appendChild(document.createTextNode(entry.text));
      if (imageUrl) {
        if (!hasText) bubble.classList.add("bubble-image");
        if (entry.role === "user") {
          bubble.appendChild(makeImage(imageUrl, TEXT.photoAlt, "thumb"));
        } else {
          bubble.appendChild(makeImage(imageUrl, TEXT.botImageAlt));
        }
      }
      if (entry.role === "bot" && hasText && isSpeechKey(entry.speech)) {
        // The bubble and its "🔊 Nghe" button side by side: no extra line per message.
        var line = el("div", "bubble-line");
        line.appendChild(bubble);
        line.appendChild(makeListenButton(entry.speech));
        row.appendChild(line);
      } else {
        row.appendChild(bubble);
      }
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

  function makeListenButton(key) {
    var btn = el("button", "listen");
    btn.type = "button";
    btn.setAttribute("data-testid", "listen");
    btn.setAttribute("data-speech", key);
    btn.appendChild(el("span", "listen-icon")).setAttribute("aria-hidden", "true");
    btn.appendChild(el("span", "listen-label"));
    showListenState(btn, key === playingKey);
    btn.addEventListener("click", function () { onListen(key); });
    return btn;
  }

  function showListenState(btn, playing) {
    btn.classList.toggle("playing", playing);   // the label says what a press does: no aria-pressed
    btn.querySelector(".listen-icon").textContent = playing ? "⏹" : "🔊";
    btn.querySelector(".listen-label").textContent = playing ? TEXT.stopListen : TEXT.listen;
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
    els.talk.disabled = busy && !recording;     // never under a finger that is still holding it
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

  /** JSON from the server; rejects with an Error whose message can be shown to the user. */
  function requestJson(url, options, ms) {
    return fetchWithTimeout(url, options, ms).then(function (res) {
      return readJson(res).then(function (data) {
        if (!res.ok) throw new Error(errorText(data));
        return data;
      });
    }, function () {
      throw new Error(TEXT.network);
    });
  }

  function isSpeechKey(key) {
    return typeof key === "string" && SPEECH_KEY_RE.test(key);
  }

  /** The assistant's messages of an answer, as history entries. */
  function botEntries(data) {
    var messages = data && Array.isArray(data.messages) ? data.messages : [];
    var entries = [];
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
      if (entry.text && isSpeechKey(m.speech)) entry.speech = m.speech;
      if (!entry.text && !entry.image && !entry.buttons.length) return;
      entries.push(entry);
    });
    return entries;
  }

  /**
   * One exchange with the assistant, typed or spoken: POST, then show (and, when asked, speak)
   * the answers. `onAnswer(data)` runs first on success (the spoken text's bubble); `onFail`
   * runs before controls are re-enabled when nothing came back. Resolves to true when answered.
   */
  function converse(url, options, ms, previous, onAnswer, onFail) {
    return requestJson(url, options, ms).then(function (data) {
      if (onAnswer) onAnswer(data);
      var newRows = [];
      var keys = [];
      botEntries(data).forEach(function (entry) {
        newRows.push(addEntry(entry));
        if (entry.speech) keys.push(entry.speech);
      });
      if (newRows.length) latestAnchor = newRows[0];
      setBusy(false);
      scrollToNewest();
      restoreFocus(previous, newRows);
      if (speakOn) speak(keys, false);
      return true;
    }).catch(function (err) {
      if (onFail) onFail();
      setBusy(false);
      addNote(err && err.message ? err.message : TEXT.network);
      restoreFocus(previous, []);
      return false;
    });
  }

  /**
   * Send `text` to the assistant. `shown` is what appears as the user's bubble
   * ({text} or {image}); null sends silently. `onFail` runs before controls are
   * re-enabled when the message was not delivered. Resolves to true when answered.
   */
  function send(text, shown, focusBefore, onFail) {
    if (busy) return Promise.resolve(false);
    stopSpeaking();
    if (shown) unlockAudio();  // sent from a tap or a key: let the answer be read aloud (iOS)
    var userIndex = -1;
    if (shown) {
      var row = addEntry({ role: "user", text: shown.text || "", image: shown.image || null });
      userIndex = history.length - 1;
      latestAnchor = row;
    }
    var previous = shown ? (focusBefore || document.activeElement) : null;
    setBusy(true, TEXT.waiting);

    return converse("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ sender: sender, text: text })
    }, CHAT_TIMEOUT_MS, previous, null, function () {
      if (userIndex >= 0 && history[userIndex]) {
        history[userIndex].failed = true;
        replaceRow(userIndex);
        saveHistory();
      }
      if (onFail) onFail();
    });
  }

  /** Send a recording: what the server heard becomes the user's bubble, then the answers as for text. */
  function sendVoice(blob, filename, focusBefore) {
    if (busy) return Promise.resolve(false);
    stopSpeaking();
    var form = new FormData();
    form.append("sender", sender);
    form.append("audio", blob, filename);
    setBusy(true, TEXT.hearing);
    return converse("/api/voice", {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: form
    }, VOICE_TIMEOUT_MS, focusBefore, function (data) {
      var heard = data && typeof data.heard === "string" ? data.heard.trim() : "";
      if (heard) latestAnchor = addEntry({ role: "user", text: heard, voice: true });
    }, null);
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
      form.append("sender", sender);        // whose photo: forgotten with them on request
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

  // ---------- Reading answers aloud: one <audio> element playing a queue of speech keys ----------

  var speakOn = false;      // "Đọc to câu trả lời"
  var player = null;        // made on first use
  var queue = [];           // [{key, asked}] still to play; asked: a "Nghe" press, not the setting
  var playingKey = null;
  var playingAsked = false;
  var audioUnlocked = false;
  var silentUrl = null;
  var speechExt = null;

  function speechUrl(key) {
    if (!speechExt) {
      var probe = document.createElement("audio");
      var canMp3 = probe.canPlayType ? probe.canPlayType("audio/mpeg") : "maybe";
      var canOgg = probe.canPlayType ? probe.canPlayType("audio/ogg; codecs=\"opus\"") : "";
      speechExt = !canMp3 && canOgg ? "ogg" : "mp3";
    }
    return "/api/speech/" + key + "." + speechExt;
  }

  function getPlayer() {
    if (player) return player;
    player = new Audio();
    player.preload = "auto";
    player.addEventListener("ended", function () {
      if (playingKey) playNext();           // else it was the silent unlocking clip
    });
    player.addEventListener("error", function () {
      if (!playingKey) return;
      if (playingAsked) addNote(TEXT.cannotSpeak);
      playNext();
    });
    return player;
  }

  function setPlaying(key, asked) {
    playingKey = key;
    playingAsked = !!asked;
    var buttons = els.messages.querySelectorAll("button.listen");
    for (var i = 0; i < buttons.length; i++) {
      showListenState(buttons[i], key !== null && buttons[i].getAttribute("data-speech") === key);
    }
  }

  function playNext() {
    var item = queue.shift();
    if (!item) { setPlaying(null); return; }
    var audio = getPlayer();
    setPlaying(item.key, item.asked);
    audio.src = speechUrl(item.key);
    var started = audio.play();
    if (started && typeof started.catch === "function") {
      started.catch(function (err) {
        // Refused for want of a recent tap (autoplay rules): drop the rest rather than try each one.
        if (err && err.name === "NotAllowedError" && playingKey === item.key) {
          queue = [];
          setPlaying(null);
        }
      });
    }
  }

  /** Play these speech keys: after what is playing, or (`asked`, a "Nghe" press) instead of it. */
  function speak(keys, asked) {
    if (asked) stopSpeaking();
    keys.forEach(function (key) { queue.push({ key: key, asked: !!asked }); });
    if (!playingKey) playNext();
  }

  function stopSpeaking() {
    queue = [];
    if (!playingKey) return;
    setPlaying(null);
    player.pause();
    player.removeAttribute("src");
    player.load();
  }

  /** A silent clip, 0.1 s of 8-bit 8 kHz WAV, built here rather than downloaded. */
  function silentClip() {
    if (silentUrl) return silentUrl;
    var samples = 800;
    var buf = new ArrayBuffer(44 + samples);
    var v = new DataView(buf);
    var put = function (at, text) {
      for (var i = 0; i < text.length; i++) v.setUint8(at + i, text.charCodeAt(i));
    };
    put(0, "RIFF"); v.setUint32(4, 36 + samples, true); put(8, "WAVE");
    put(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
    v.setUint32(24, 8000, true); v.setUint32(28, 8000, true); v.setUint16(32, 1, true); v.setUint16(34, 8, true);
    put(36, "data"); v.setUint32(40, samples, true);
    for (var j = 0; j < samples; j++) v.setUint8(44 + j, 128);
    silentUrl = URL.createObjectURL(new Blob([buf], { type: "audio/wav" }));
    return silentUrl;
  }

  /**
   * Phones (iOS above all) play sound only from an element first played during a tap. Called from
   * taps while reading aloud is on, so the answers, which arrive later, can be read.
   */
  function unlockAudio() {
    if (audioUnlocked || !speakOn || playingKey) return;
    audioUnlocked = true;
    var audio = getPlayer();
    audio.src = silentClip();
    var started = audio.play();
    if (started && typeof started.catch === "function") {
      started.catch(function (err) {
        if (!err || err.name !== "AbortError") audioUnlocked = false;  // not from a tap: try again later
      });
    }
  }

  function onListen(key) {
    if (playingKey === key) { stopSpeaking(); return; }
    speak([key], true);
  }

  function applySpeak(on) {
    speakOn = on;
    els.speakToggle.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function onSpeakToggle() {
    var on = !speakOn;
    applySpeak(on);
    storageSet("localStorage", SPEAK_KEY, on ? "1" : "0");
    if (on) unlockAudio(); else stopSpeaking();
  }

  // ---------- Hold to talk: record while pressed, send on release ----------

  var recording = null;     // the press in progress: {source, pointerId, pressedAt, startedAt, stream, recorder, chunks}
  var micOff = false;       // no usable microphone: the button says so, a press explains
  var lastTalkEvent = 0;    // when a pointer or key was last handled, to tell a lone click apart

  function micSupported() {
    return window.isSecureContext !== false && !!navigator.mediaDevices &&
      typeof navigator.mediaDevices.getUserMedia === "function" && typeof window.MediaRecorder === "function";
  }

  function recordingType() {
    if (typeof MediaRecorder.isTypeSupported !== "function") return "";
    for (var i = 0; i < RECORDING_TYPES.length; i++) {
      try {
        if (MediaRecorder.isTypeSupported(RECORDING_TYPES[i])) return RECORDING_TYPES[i];
      } catch (e) { /* keep looking */ }
    }
    return "";  // the browser's own choice
  }

  function recordingName(type) {
    var t = String(type || "").toLowerCase();
    if (t.indexOf("ogg") >= 0) return "voice.ogg";
    if (t.indexOf("mp4") >= 0 || t.indexOf("aac") >= 0 || t.indexOf("m4a") >= 0) return "voice.m4a";
    if (t.indexOf("wav") >= 0) return "voice.wav";
    return "voice.webm";
  }

  function stopTracks(stream) {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  }

  function updateTimer() {
    var r = recording;
    els.talkTimer.textContent = r ? Math.floor((Date.now() - (r.startedAt || Date.now())) / 1000) + TEXT.seconds : "";
  }

  function showTalk() {
    var on = !!recording;
    els.talk.classList.toggle("recording", on);
    els.talk.classList.toggle("talk-off", micOff);
    els.talk.setAttribute("aria-pressed", on ? "true" : "false");
    if (micOff) els.talk.setAttribute("aria-disabled", "true");
    else els.talk.removeAttribute("aria-disabled");
    var parts = micOff ? [TEXT.talkOff] : (on ? TEXT.talkRecording : [TEXT.talk]);
    els.talkLabel.textContent = "";
    parts.forEach(function (part, i) {
      if (i) els.talkLabel.appendChild(document.createTextNode(" "));
      els.talkLabel.appendChild(el("span", "talk-part", part));
    });
    els.talkHint.textContent = micOff ? TEXT.talkOffHint : "";
    updateTimer();
  }

  function setMicOff(off) {
    micOff = off;
    if (off && recording) endTalk(recording, "cancel");
    showTalk();
  }

  function startTalk(source, pointerId) {
    if (recording || busy) return;
    if (micOff || !micSupported()) {
      setMicOff(true);
      addNote(TEXT.noMic);
      return;
    }
    stopSpeaking();
    unlockAudio();
    var r = recording = { source: source, pointerId: pointerId, pressedAt: Date.now(), chunks: [] };
    r.ticker = window.setInterval(updateTimer, 250);
    showTalk();
    refreshControls();

    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      r.stream = stream;
      if (recording !== r) {               // let go while the microphone was opening
        stopTracks(stream);
        if (r.tooShort) addNote(TEXT.holdLonger);
        return;
      }
      var type = recordingType();
      var recorder = r.recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", function (ev) {
        if (ev.data && ev.data.size) r.chunks.push(ev.data);
      });
      recorder.addEventListener("stop", function () { finishTalk(r); });
      recorder.addEventListener("error", function () {
        r.failed = true;
        endTalk(r, "release");
        finishTalk(r);
      });
      recorder.start();
      r.startedAt = Date.now();
      r.limit = window.setTimeout(function () { endTalk(r, "limit"); }, MAX_RECORD_MS);
      updateTimer();
    }).catch(function (err) {
      stopTracks(r.stream);
      r.finished = true;
      if (recording === r) endTalk(r, "cancel");
      if (err && (err.name === "NotReadableError" || err.name === "AbortError")) {
        addNote(TEXT.micBusy);             // in use elsewhere for now: worth another try
        return;
      }
      setMicOff(true);                     // refused, no microphone, no recorder for it
      addNote(TEXT.noMic);
    });
  }

  /** The press is over: "release" and "limit" send what was recorded, "cancel" drops it. */
  function endTalk(r, reason) {
    if (!r || r.ended) return;
    r.ended = true;
    r.endedAt = Date.now();
    r.cancelled = reason === "cancel";
    if (reason === "release") unlockAudio();   // on touch screens the release, not the press, counts as a tap
    window.clearInterval(r.ticker);
    window.clearTimeout(r.limit);
    if (recording === r) {
      recording = null;
      showTalk();
      refreshControls();
    }
    if (!r.recorder) {
      r.tooShort = !r.cancelled;           // the microphone was still opening: nothing recorded
    } else if (r.recorder.state !== "inactive") {
      try { r.recorder.stop(); } catch (e) { finishTalk(r); }   // else "stop" calls finishTalk
    } else {
      finishTalk(r);
    }
  }

  function finishTalk(r) {
    if (r.finished) return;
    r.finished = true;
    stopTracks(r.stream);                  // the browser's "recording" sign goes away
    if (r.cancelled) return;
    if (r.failed) { addNote(TEXT.micBusy); return; }
    if (r.endedAt - r.pressedAt < MIN_HOLD_MS) { addNote(TEXT.holdLonger); return; }
    var type = r.recorder.mimeType || (r.chunks[0] && r.chunks[0].type) || "";
    var blob = new Blob(r.chunks, type ? { type: type } : {});
    if (!blob.size) { addNote(TEXT.noSound); return; }
    sendVoice(blob, recordingName(type), els.talk);
  }

  function onTalkPointerDown(ev) {
    lastTalkEvent = Date.now();
    if (!ev.isPrimary || (ev.pointerType === "mouse" && ev.button !== 0) || els.talk.disabled) return;
    startTalk("pointer", ev.pointerId);
  }

  function onTalkPointerUp(ev) {
    lastTalkEvent = Date.now();
    var r = recording;
    if (r && r.source === "pointer" && r.pointerId === ev.pointerId) endTalk(r, "release");
  }

  function isTalkKey(ev) {
    return ev.key === " " || ev.key === "Spacebar" || ev.key === "Enter";
  }

  function onTalkKeyDown(ev) {
    if (!isTalkKey(ev)) return;
    ev.preventDefault();                   // no click, no page scroll
    lastTalkEvent = Date.now();
    if (!ev.repeat && !recording) startTalk("key");
  }

  function onTalkKeyUp(ev) {
    if (!isTalkKey(ev)) return;
    ev.preventDefault();
    lastTalkEvent = Date.now();
    if (recording && recording.source === "key") endTalk(recording, "release");
  }

  /** A click with no press before it (screen readers, switch access): click to start, click again to send. */
  function onTalkClick() {
    if (Date.now() - lastTalkEvent < 1000) return;
    if (!recording) startTalk("click");
    else if (recording.source === "click") endTalk(recording, "release");
  }

  function setupTalk() {
    var talk = els.talk;
    talk.addEventListener("pointerdown", onTalkPointerDown);
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (name) {
      talk.addEventListener(name, onTalkPointerUp);
    });
    talk.addEventListener("keydown", onTalkKeyDown);
    talk.addEventListener("keyup", onTalkKeyUp);
    talk.addEventListener("click", onTalkClick);
    talk.addEventListener("blur", function () {
      if (recording && recording.source === "key") endTalk(recording, "release");
    });
    talk.addEventListener("contextmenu", function (ev) { ev.preventDefault(); });  // long press on phones
    talk.addEventListener("dragstart", function (ev) { ev.preventDefault(); });
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && recording) endTalk(recording, "release");
    });

    micOff = !micSupported();
    showTalk();
    // A microphone refused earlier: say so on the button now, and follow later changes in the settings.
    if (!micOff && navigator.permissions && typeof navigator.permissions.query === "function") {
      try {
        navigator.permissions.query({ name: "microphone" }).then(function (status) {
          var follow = function () {
            if (status.state === "denied") setMicOff(true);
            else if (micOff && micSupported()) setMicOff(false);
          };
          follow();
          status.addEventListener("change", follow);
        }).catch(function () { /* this browser cannot tell: find out on the first press */ });
      } catch (e) { /* ditto */ }
    }
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
    els.speakToggle = document.getElementById("speak-toggle");
    els.talk = document.getElementById("talk");
    els.talkLabel = document.getElementById("talk-label");
    els.talkHint = document.getElementById("talk-hint");
    els.talkTimer = document.getElementById("talk-timer");
    els.locationBtn = document.getElementById("location-btn");
    els.photoBtn = document.getElementById("photo-btn");
    els.photoInput = document.getElementById("photo-input");
    els.helpers = Array.prototype.slice.call(document.querySelectorAll(".helper"));

    applyFont(storageGet("localStorage", FONT_KEY) === "1");
    applySpeak(storageGet("localStorage", SPEAK_KEY) === "1");
    sender = getSender();

    els.form.addEventListener("submit", onSubmit);
    els.input.addEventListener("keydown", onKeyDown);
    els.input.addEventListener("input", autoGrow);
    els.fontToggle.addEventListener("click", onFontToggle);
    els.speakToggle.addEventListener("click", onSpeakToggle);
    setupTalk();
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
