/* Hold to talk: record while the button is pressed (pointer, Space/Enter, or click-click), send on release. */
import { el } from "./dom.js";
import { state } from "./state.js";
import { stopSpeaking, unlockAudio } from "./speech.js";
import { TEXT } from "./texts.js";
import { addNote, refreshControls } from "./view.js";

const MIN_HOLD_MS = 500;                    // shorter presses are taken for taps: nothing is sent
const MAX_RECORD_MS = 59500;                // the server takes up to 60 s; stop just before
// First the server's favourite; Safari records only MP4/AAC.
const RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/ogg",
  "audio/mp4;codecs=mp4a.40.2", "audio/mp4", "audio/aac"];

let recording = null;     // the press in progress: {source, pointerId, pressedAt, startedAt, stream, recorder, chunks}
let micOff = false;       // no usable microphone: the button says so, a press explains
let lastTalkEvent = 0;    // when a pointer or key was last handled, to tell a lone click apart
let onRecorded = null;    // (blob, filename) => void: what to do with a recording

export function holding() {
  return !!recording;
}

function micSupported() {
  return window.isSecureContext !== false && !!navigator.mediaDevices &&
    typeof navigator.mediaDevices.getUserMedia === "function" && typeof window.MediaRecorder === "function";
}

function recordingType() {
  if (typeof MediaRecorder.isTypeSupported !== "function") return "";
  for (const type of RECORDING_TYPES) {
    try {
      if (MediaRecorder.isTypeSupported(type)) return type;
    } catch (e) { /* keep looking */ }
  }
  return "";  // the browser's own choice
}

function recordingName(type) {
  const t = String(type || "").toLowerCase();
  if (t.indexOf("ogg") >= 0) return "voice.ogg";
  if (t.indexOf("mp4") >= 0 || t.indexOf("aac") >= 0 || t.indexOf("m4a") >= 0) return "voice.m4a";
  if (t.indexOf("wav") >= 0) return "voice.wav";
  return "voice.webm";
}

function stopTracks(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

function updateTimer() {
  const r = recording;
  state.els.talkTimer.textContent = r ? Math.floor((Date.now() - (r.startedAt || Date.now())) / 1000) + TEXT.seconds : "";
}

function showTalk() {
  const { els } = state;
  const on = !!recording;
  els.talk.classList.toggle("recording", on);
  els.talk.classList.toggle("talk-off", micOff);
  els.talk.setAttribute("aria-pressed", on ? "true" : "false");
  if (micOff) els.talk.setAttribute("aria-disabled", "true");
  else els.talk.removeAttribute("aria-disabled");
  const parts = micOff ? [TEXT.talkOff] : (on ? TEXT.talkRecording : [TEXT.talk]);
  els.talkLabel.textContent = "";
  parts.forEach((part, i) => {
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
  if (recording || state.busy) return;
  if (micOff || !micSupported()) {
    setMicOff(true);
    addNote(TEXT.noMic);
    return;
  }
  stopSpeaking();
  unlockAudio();
  const r = recording = { source: source, pointerId: pointerId, pressedAt: Date.now(), chunks: [] };
  r.ticker = window.setInterval(updateTimer, 250);
  showTalk();
  refreshControls();

  navigator.mediaDevices.getUserMedia({ audio: true }).then((stream) => {
    r.stream = stream;
    if (recording !== r) {               // let go while the microphone was opening
      stopTracks(stream);
      if (r.tooShort) addNote(TEXT.holdLonger);
      return;
    }
    const type = recordingType();
    const recorder = r.recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (ev) => {
      if (ev.data && ev.data.size) r.chunks.push(ev.data);
    });
    recorder.addEventListener("stop", () => finishTalk(r));
    recorder.addEventListener("error", () => {
      r.failed = true;
      endTalk(r, "release");
      finishTalk(r);
    });
    recorder.start();
    r.startedAt = Date.now();
    r.limit = window.setTimeout(() => endTalk(r, "limit"), MAX_RECORD_MS);
    updateTimer();
  }).catch((err) => {
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
  const type = r.recorder.mimeType || (r.chunks[0] && r.chunks[0].type) || "";
  const blob = new Blob(r.chunks, type ? { type: type } : {});
  if (!blob.size) { addNote(TEXT.noSound); return; }
  onRecorded(blob, recordingName(type));
}

function isTalkKey(ev) {
  return ev.key === " " || ev.key === "Spacebar" || ev.key === "Enter";
}

/** Wire the talk button; `recorded(blob, filename)` receives each recording worth sending. */
export function setupTalk(recorded) {
  onRecorded = recorded;
  const talk = state.els.talk;
  talk.addEventListener("pointerdown", (ev) => {
    lastTalkEvent = Date.now();
    if (!ev.isPrimary || (ev.pointerType === "mouse" && ev.button !== 0) || talk.disabled) return;
    startTalk("pointer", ev.pointerId);
  });
  ["pointerup", "pointerleave", "pointercancel"].forEach((name) => {
    talk.addEventListener(name, (ev) => {
      lastTalkEvent = Date.now();
      const r = recording;
      if (r && r.source === "pointer" && r.pointerId === ev.pointerId) endTalk(r, "release");
    });
  });
  talk.addEventListener("keydown", (ev) => {
    if (!isTalkKey(ev)) return;
    ev.preventDefault();                   // no click, no page scroll
    lastTalkEvent = Date.now();
    if (!ev.repeat && !recording) startTalk("key");
  });
  talk.addEventListener("keyup", (ev) => {
    if (!isTalkKey(ev)) return;
    ev.preventDefault();
    lastTalkEvent = Date.now();
    if (recording && recording.source === "key") endTalk(recording, "release");
  });
  // A click with no press before it (screen readers, switch access): click to start, click again to send.
  talk.addEventListener("click", () => {
    if (Date.now() - lastTalkEvent < 1000) return;
    if (!recording) startTalk("click");
    else if (recording.source === "click") endTalk(recording, "release");
  });
  talk.addEventListener("blur", () => {
    if (recording && recording.source === "key") endTalk(recording, "release");
  });
  talk.addEventListener("contextmenu", (ev) => ev.preventDefault());  // long press on phones
  talk.addEventListener("dragstart", (ev) => ev.preventDefault());
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && recording) endTalk(recording, "release");
  });

  micOff = !micSupported();
  showTalk();
  // A microphone refused earlier: say so on the button now, and follow later changes in the settings.
  if (!micOff && navigator.permissions && typeof navigator.permissions.query === "function") {
    try {
      navigator.permissions.query({ name: "microphone" }).then((status) => {
        const follow = () => {
          if (status.state === "denied") setMicOff(true);
          else if (micOff && micSupported()) setMicOff(false);
        };
        follow();
        status.addEventListener("change", follow);
      }).catch(() => { /* this browser cannot tell: find out on the first press */ });
    } catch (e) { /* ditto */ }
  }
}
