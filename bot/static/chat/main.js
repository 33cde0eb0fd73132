/* Trợ lý Huế — the web chat. ES modules, no build step, no dependencies, nothing global:
   texts, storage, dom and network are plain helpers; view draws the conversation; speech reads answers aloud;
   recorder is the hold-to-talk button; photo and location the two helper buttons. This module ties them. */
import { currentLocation } from "./location.js";
import { botEntries, postChat, postVoice, uploadPhoto } from "./network.js";
import { shrinkPhoto } from "./photo.js";
import { holding, setupTalk } from "./recorder.js";
import { listenButton, setupSpeech, speak, speaking, stopSpeaking, unlockAudio } from "./speech.js";
import { state } from "./state.js";
import { FONT_KEY, getSender, loadHistory, saveHistory, storageGet, storageSet } from "./storage.js";
import { TEXT } from "./texts.js";
import {
  addEntry, addNote, configure, refreshControls, replaceRow, rerenderAll, restoreFocus, scrollToNewest, setBusy
} from "./view.js";

/**
 * One exchange with the assistant, typed or spoken: `request` (a promise of the server's JSON), then show (and,
 * when asked, speak) the answers. `onAnswer(data)` runs first on success (the spoken text's bubble); `onFail` runs
 * before controls are re-enabled when nothing came back. Resolves to true when answered.
 */
function converse(request, previous, onAnswer, onFail) {
  return request.then((data) => {
    if (onAnswer) onAnswer(data);
    const newRows = [];
    const keys = [];
    botEntries(data).forEach((entry) => {
      newRows.push(addEntry(entry));
      if (entry.speech) keys.push(entry.speech);
    });
    if (newRows.length) state.latestAnchor = newRows[0];
    setBusy(false);
    scrollToNewest();
    restoreFocus(previous, newRows);
    if (speaking()) speak(keys, false);
    return true;
  }).catch((err) => {
    if (onFail) onFail();
    setBusy(false);
    addNote(err && err.message ? err.message : TEXT.network);
    restoreFocus(previous, []);
    return false;
  });
}

/**
 * Send `text` to the assistant. `shown` is what appears as the user's bubble ({text} or {image}); null sends
 * silently. `onFail` runs before controls are re-enabled when the message was not delivered.
 */
function send(text, shown, focusBefore, onFail) {
  if (state.busy) return Promise.resolve(false);
  stopSpeaking();
  if (shown) unlockAudio();  // sent from a tap or a key: let the answer be read aloud (iOS)
  let userIndex = -1;
  if (shown) {
    state.latestAnchor = addEntry({ role: "user", text: shown.text || "", image: shown.image || null });
    userIndex = state.history.length - 1;
  }
  const previous = shown ? (focusBefore || document.activeElement) : null;
  setBusy(true, TEXT.waiting);
  return converse(postChat(state.sender, text), previous, null, () => {
    const entry = state.history[userIndex];
    if (userIndex >= 0 && entry) {
      entry.failed = true;
      replaceRow(userIndex);
      saveHistory(state.history);
    }
    if (onFail) onFail();
  });
}

/** Send a recording: what the server heard becomes the user's bubble, then the answers as for text. */
function sendVoice(blob, filename) {
  if (state.busy) return Promise.resolve(false);
  stopSpeaking();
  setBusy(true, TEXT.hearing);
  return converse(postVoice(state.sender, blob, filename), state.els.talk, (data) => {
    const heard = data && typeof data.heard === "string" ? data.heard.trim() : "";
    if (heard) state.latestAnchor = addEntry({ role: "user", text: heard, voice: true });
  }, null);
}

// ---------- What the citizen does ----------

function onSubmit(ev) {
  if (ev) ev.preventDefault();
  const input = state.els.input;
  if (state.busy) return;
  const text = input.value.trim();
  if (!text) { input.focus(); return; }
  input.value = "";
  autoGrow();
  send(text, { text: text }, input).then((ok) => {
    if (!ok && !input.value) { input.value = text; autoGrow(); } // easy retry
  });
}

function onChoice(index, btn, title, payload) {
  const { history } = state;
  if (state.busy || !history[index]) return;
  history[index].chosen = title;
  saveHistory(history);
  btn.classList.add("chosen");       // keep the element: focus stays in place
  send(payload, { text: title }, btn, () => {
    // Not delivered: let the user pick again.
    if (history[index]) delete history[index].chosen;
    saveHistory(history);
    btn.classList.remove("chosen");
  });
}

function onHelper(ev) {
  const btn = ev.currentTarget;
  if (state.busy) return;
  send(btn.getAttribute("data-send"), { text: btn.getAttribute("data-show") }, btn);
}

function onLocation() {
  if (state.busy) return;
  const btn = state.els.locationBtn;
  setBusy(true, TEXT.locating);
  currentLocation().then((payload) => {
    setBusy(false);
    send(payload, { text: TEXT.myLocation }, btn);
  }, (err) => {
    setBusy(false);
    addNote(err.message);
    restoreFocus(btn, []);
  });
}

function onPhotoChosen() {
  const { els } = state;
  const file = els.photoInput.files && els.photoInput.files[0];
  els.photoInput.value = "";             // allow choosing the same file again
  if (!file || state.busy) return;
  const btn = els.photoBtn;
  if (file.type && file.type.indexOf("image/") !== 0) {
    addNote(TEXT.notImage);
    return;
  }
  setBusy(true, TEXT.uploading);
  shrinkPhoto(file).then((photo) => uploadPhoto(state.sender, photo.blob, photo.name)).then((url) => {
    setBusy(false);
    send("/inform" + JSON.stringify({ photo_url: url }), { image: url }, btn);
  }).catch((err) => {
    setBusy(false);
    addNote(err && err.message ? err.message : TEXT.uploadFailed);
    restoreFocus(btn, []);
  });
}

// ---------- Text box: Enter sends, Shift+Enter new line, grows with the text ----------

function autoGrow() {
  const ta = state.els.input;
  const max = Math.max(80, window.innerHeight * 0.3);
  ta.style.height = "auto";
  const wanted = ta.scrollHeight + 6;     // + top and bottom border
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
  state.els.fontToggle.setAttribute("aria-pressed", big ? "true" : "false");
}

function onFontToggle() {
  const big = state.els.fontToggle.getAttribute("aria-pressed") !== "true";
  applyFont(big);
  storageSet("localStorage", FONT_KEY, big ? "1" : "0");
  autoGrow();
  scrollToNewest();
}

/** An officer's words, pushed by the gateway (server-sent events) while a person holds the conversation. */
function listenForOfficers() {
  if (typeof EventSource !== "function") return;
  const line = new EventSource("/api/stream?sender=" + encodeURIComponent(state.sender));
  line.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (message && typeof message.typing === "string") {  // an officer is writing
      if (!state.busy) state.els.status.textContent = TEXT.officerTyping(message.typing);
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(() => { if (!state.busy) state.els.status.textContent = ""; }, 6000);
      return;
    }
    const entry = botEntries({ messages: [message] })[0];
    if (!entry) return;
    if (!state.busy) state.els.status.textContent = "";
    if (typeof message.officer === "string" && message.officer) {
      entry.text = TEXT.officerSays(message.officer) + "\n" + entry.text;
    }
    state.latestAnchor = addEntry(entry);
    scrollToNewest();
  };
}

// ---------- Start ----------

function init() {
  const byId = (id) => document.getElementById(id);
  const els = state.els;
  Object.assign(els, {
    chat: byId("chat"), messages: byId("messages"), status: byId("status"), form: byId("composer"),
    input: byId("input"), send: byId("send"), fontToggle: byId("font-toggle"), speakToggle: byId("speak-toggle"),
    talk: byId("talk"), talkLabel: byId("talk-label"), talkHint: byId("talk-hint"), talkTimer: byId("talk-timer"),
    locationBtn: byId("location-btn"), photoBtn: byId("photo-btn"), photoInput: byId("photo-input"),
    helpers: Array.from(document.querySelectorAll(".helper"))
  });
  configure({ onChoice: onChoice, listenButton: listenButton, holding: holding });

  applyFont(storageGet("localStorage", FONT_KEY) === "1");
  setupSpeech();
  state.sender = getSender();

  els.form.addEventListener("submit", onSubmit);
  els.input.addEventListener("keydown", onKeyDown);
  els.input.addEventListener("input", autoGrow);
  els.fontToggle.addEventListener("click", onFontToggle);
  setupTalk(sendVoice);
  els.helpers.forEach((b) => {
    if (b.hasAttribute("data-send")) b.addEventListener("click", onHelper);
  });
  els.locationBtn.addEventListener("click", onLocation);
  els.photoBtn.addEventListener("click", () => { if (!state.busy) els.photoInput.click(); });
  els.photoInput.addEventListener("change", onPhotoChosen);
  window.addEventListener("resize", () => scrollToNewest());

  autoGrow();
  state.history = loadHistory();
  rerenderAll();
  refreshControls();
  scrollToNewest();

  listenForOfficers();
  if (!state.history.length) send("/greet", null);  // silent: the assistant greets first
}

// Modules run after the page is parsed.
init();
