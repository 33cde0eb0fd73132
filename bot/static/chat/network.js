/* Talking to the gateway: every request has a timeout; failures become a message fit to show a citizen. */
import { TEXT } from "./texts.js";

export const CHAT_TIMEOUT_MS = 60000;
export const UPLOAD_TIMEOUT_MS = 120000;
export const VOICE_TIMEOUT_MS = 120000;            // upload + recognition + the answer
const SPEECH_KEY_RE = /^[0-9a-f]{32}$/;            // GET /api/speech/<key>.mp3

export function fetchWithTimeout(url, options, ms) {
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  let timer = null;
  if (controller) {
    options.signal = controller.signal;
    timer = window.setTimeout(() => controller.abort(), ms);
  }
  return fetch(url, options).finally(() => {
    if (timer) window.clearTimeout(timer);
  });
}

export function readJson(res) {
  return res.json().catch(() => null);
}

export function errorText(data, fallback) {
  return data && typeof data.error === "string" && data.error.trim() ? data.error.trim() : (fallback || TEXT.network);
}

/** JSON from the server; rejects with an Error whose message can be shown to the user. */
export function requestJson(url, options, ms) {
  return fetchWithTimeout(url, options, ms).then(
    (res) => readJson(res).then((data) => {
      if (!res.ok) throw new Error(errorText(data));
      return data;
    }),
    () => { throw new Error(TEXT.network); });
}

export function isSpeechKey(key) {
  return typeof key === "string" && SPEECH_KEY_RE.test(key);
}

/** The assistant's messages of an answer, as history entries. */
export function botEntries(data) {
  const messages = data && Array.isArray(data.messages) ? data.messages : [];
  const entries = [];
  messages.forEach((m) => {
    if (!m || typeof m !== "object") return;
    const entry = {
      role: "bot",
      text: typeof m.text === "string" ? m.text : "",
      image: typeof m.image === "string" ? m.image : null,
      buttons: Array.isArray(m.buttons) ? m.buttons.filter((b) => b && typeof b === "object").map((b) => (
        { title: b.title == null ? "" : String(b.title), payload: b.payload == null ? "" : String(b.payload) }
      )) : []
    };
    if (entry.text && isSpeechKey(m.speech)) entry.speech = m.speech;
    if (!entry.text && !entry.image && !entry.buttons.length) return;
    entries.push(entry);
  });
  return entries;
}

export function postChat(sender, text) {
  return requestJson("/api/chat", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify({ sender: sender, text: text })
  }, CHAT_TIMEOUT_MS);
}

export function postVoice(sender, blob, filename) {
  const form = new FormData();
  form.append("sender", sender);
  form.append("audio", blob, filename);
  return requestJson("/api/voice", { method: "POST", headers: { "Accept": "application/json" }, body: form },
    VOICE_TIMEOUT_MS);
}

/** Upload a photo; resolves to the address it is served at. `sender`: whose it is (forgotten with them). */
export function uploadPhoto(sender, blob, name) {
  const form = new FormData();
  form.append("sender", sender);
  form.append("photo", blob, name);
  return fetchWithTimeout("/api/upload", { method: "POST", body: form }, UPLOAD_TIMEOUT_MS).then(
    (res) => readJson(res).then((data) => {
      if (!res.ok) throw new Error(errorText(data, TEXT.uploadFailed));
      if (!data || typeof data.url !== "string" || !data.url) throw new Error(TEXT.uploadFailed);
      return data.url;
    }),
    () => { throw new Error(TEXT.network); });
}
