/* What the browser keeps: the conversation id, settings, the visible conversation. Storage may be unavailable
   (private modes): then nothing is kept. */
export const SENDER_KEY = "trolyhue_sender";       // localStorage: conversation id
export const FONT_KEY = "trolyhue_big_text";       // localStorage: "1" when "Chữ to hơn" is on
export const SPEAK_KEY = "trolyhue_speak";         // localStorage: "1" when "Đọc to câu trả lời" is on
const HISTORY_KEY = "trolyhue_history";            // sessionStorage: visible conversation

export function storageGet(store, key) {
  try { return window[store].getItem(key); } catch (e) { return null; }
}

export function storageSet(store, key, value) {
  try { window[store].setItem(key, value); } catch (e) { /* ignore: quota or disabled */ }
}

function randomUUID() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") {
    try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
  }
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;   // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;   // RFC 4122 variant
  const hex = Array.from(bytes, (b) => (b + 0x100).toString(16).slice(1));
  return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" +
    hex.slice(6, 8).join("") + "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
}

export function getSender() {
  let id = storageGet("localStorage", SENDER_KEY);
  if (!id || !/^web-[0-9a-zA-Z-]{8,}$/.test(id)) {
    id = "web-" + randomUUID();
    storageSet("localStorage", SENDER_KEY, id);
  }
  return id;
}

export function loadHistory() {
  const raw = storageGet("sessionStorage", HISTORY_KEY);
  if (!raw) return [];
  try {
    const list = JSON.parse(raw);
    return Array.isArray(list) ? list.filter((m) => m && (m.role === "user" || m.role === "bot")) : [];
  } catch (e) {
    return [];
  }
}

export function saveHistory(history) {
  storageSet("sessionStorage", HISTORY_KEY, JSON.stringify(history));
}
