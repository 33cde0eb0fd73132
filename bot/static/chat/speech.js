/* Reading answers aloud: one <audio> element playing a queue of speech keys ("Đọc to câu trả lời", "🔊 Nghe"). */
import { el } from "./dom.js";
import { state } from "./state.js";
import { SPEAK_KEY, storageGet, storageSet } from "./storage.js";
import { TEXT } from "./texts.js";
import { addNote } from "./view.js";

let speakOn = false;      // "Đọc to câu trả lời"
let player = null;        // made on first use
let queue = [];           // [{key, asked}] still to play; asked: a "Nghe" press, not the setting
let playingKey = null;
let playingAsked = false;
let audioUnlocked = false;
let silentUrl = null;
let speechExt = null;

export function speaking() {
  return speakOn;
}

function speechUrl(key) {
  if (!speechExt) {
    const probe = document.createElement("audio");
    const canMp3 = probe.canPlayType ? probe.canPlayType("audio/mpeg") : "maybe";
    const canOgg = probe.canPlayType ? probe.canPlayType("audio/ogg; codecs=\"opus\"") : "";
    speechExt = !canMp3 && canOgg ? "ogg" : "mp3";
  }
  return "/api/speech/" + key + "." + speechExt;
}

function getPlayer() {
  if (player) return player;
  player = new Audio();
  player.preload = "auto";
  player.addEventListener("ended", () => {
    if (playingKey) playNext();           // else it was the silent unlocking clip
  });
  player.addEventListener("error", () => {
    if (!playingKey) return;
    if (playingAsked) addNote(TEXT.cannotSpeak);
    playNext();
  });
  return player;
}

function showListenState(btn, playing) {
  btn.classList.toggle("playing", playing);   // the label says what a press does: no aria-pressed
  btn.querySelector(".listen-icon").textContent = playing ? "⏹" : "🔊";
  btn.querySelector(".listen-label").textContent = playing ? TEXT.stopListen : TEXT.listen;
}

/** The "🔊 Nghe" button beside an answer. */
export function listenButton(key) {
  const btn = el("button", "listen");
  btn.type = "button";
  btn.setAttribute("data-testid", "listen");
  btn.setAttribute("data-speech", key);
  btn.appendChild(el("span", "listen-icon")).setAttribute("aria-hidden", "true");
  btn.appendChild(el("span", "listen-label"));
  showListenState(btn, key === playingKey);
  btn.addEventListener("click", () => {
    if (playingKey === key) stopSpeaking();
    else speak([key], true);
  });
  return btn;
}

function setPlaying(key, asked) {
  playingKey = key;
  playingAsked = !!asked;
  state.els.messages.querySelectorAll("button.listen").forEach((btn) => {
    showListenState(btn, key !== null && btn.getAttribute("data-speech") === key);
  });
}

function playNext() {
  const item = queue.shift();
  if (!item) { setPlaying(null); return; }
  const audio = getPlayer();
  setPlaying(item.key, item.asked);
  audio.src = speechUrl(item.key);
  const started = audio.play();
  if (started && typeof started.catch === "function") {
    started.catch((err) => {
      // Refused for want of a recent tap (autoplay rules): drop the rest rather than try each one.
      if (err && err.name === "NotAllowedError" && playingKey === item.key) {
        queue = [];
        setPlaying(null);
      }
    });
  }
}

/** Play these speech keys: after what is playing, or (`asked`, a "Nghe" press) instead of it. */
export function speak(keys, asked) {
  if (asked) stopSpeaking();
  keys.forEach((key) => queue.push({ key: key, asked: !!asked }));
  if (!playingKey) playNext();
}

export function stopSpeaking() {
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
  const samples = 800;
  const buf = new ArrayBuffer(44 + samples);
  const v = new DataView(buf);
  const put = (at, text) => {
    for (let i = 0; i < text.length; i++) v.setUint8(at + i, text.charCodeAt(i));
  };
  put(0, "RIFF"); v.setUint32(4, 36 + samples, true); put(8, "WAVE");
  put(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true); v.setUint32(28, 8000, true); v.setUint16(32, 1, true); v.setUint16(34, 8, true);
  put(36, "data"); v.setUint32(40, samples, true);
  for (let j = 0; j < samples; j++) v.setUint8(44 + j, 128);
  silentUrl = URL.createObjectURL(new Blob([buf], { type: "audio/wav" }));
  return silentUrl;
}

/**
 * Phones (iOS above all) play sound only from an element first played during a tap. Called from
 * taps while reading aloud is on, so the answers, which arrive later, can be read.
 */
export function unlockAudio() {
  if (audioUnlocked || !speakOn || playingKey) return;
  audioUnlocked = true;
  const audio = getPlayer();
  audio.src = silentClip();
  const started = audio.play();
  if (started && typeof started.catch === "function") {
    started.catch((err) => {
      if (!err || err.name !== "AbortError") audioUnlocked = false;  // not from a tap: try again later
    });
  }
}

function applySpeak(on) {
  speakOn = on;
  state.els.speakToggle.setAttribute("aria-pressed", on ? "true" : "false");
}

export function setupSpeech() {
  applySpeak(storageGet("localStorage", SPEAK_KEY) === "1");
  state.els.speakToggle.addEventListener("click", () => {
    const on = !speakOn;
    applySpeak(on);
    storageSet("localStorage", SPEAK_KEY, on ? "1" : "0");
    if (on) unlockAudio(); else stopSpeaking();
  });
}
