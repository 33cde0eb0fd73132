/* The conversation on screen: bubbles, choices, notes, the busy state and scrolling. */
import { el, safeImageUrl } from "./dom.js";
import { isSpeechKey } from "./network.js";
import { state } from "./state.js";
import { saveHistory } from "./storage.js";
import { TEXT } from "./texts.js";

const HISTORY_LIMIT = 200;
// What the page around the view does: a choice pressed, the "🔊 Nghe" button of a message, whether the talk
// button is held (it is never disabled under a finger still holding it).
const hooks = { onChoice: null, listenButton: null, holding: () => false };

export function configure(given) {
  Object.assign(hooks, given);
}

function makeImage(url, alt, className) {
  const img = el("img", className || "");
  img.alt = alt;
  img.decoding = "async";
  img.src = url;
  img.addEventListener("load", () => scrollToNewest());
  return img;
}

function renderEntry(entry, index) {
  const row = el("div", "row " + (entry.role === "user" ? "row-user" : "row-bot"));
  const spoken = entry.role === "user" && entry.voice === true;
  row.appendChild(el("span", "sr-only", entry.role === "user" ? (spoken ? TEXT.srUserVoice : TEXT.srUser) : TEXT.srBot));

  const imageUrl = safeImageUrl(entry.image);
  const hasText = typeof entry.text === "string" && entry.text !== "";

  if (hasText || imageUrl) {
    const bubble = el("div", "bubble " + (entry.role === "user" ? "bubble-user" : "bubble-bot"));
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
    if (entry.role === "bot" && hasText && isSpeechKey(entry.speech) && hooks.listenButton) {
      // The bubble and its "🔊 Nghe" button side by side: no extra line per message.
      const line = el("div", "bubble-line");
      line.appendChild(bubble);
      line.appendChild(hooks.listenButton(entry.speech));
      row.appendChild(line);
    } else {
      row.appendChild(bubble);
    }
  }

  if (entry.role === "user" && entry.failed) {
    row.appendChild(el("div", "failed-note", TEXT.notSent));
  }

  if (entry.role === "bot" && Array.isArray(entry.buttons) && entry.buttons.length) {
    const group = el("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXT.choicesLabel);
    entry.buttons.forEach((b) => {
      if (!b) return;
      const title = String(b.title != null && b.title !== "" ? b.title : (b.payload || ""));
      const payload = String(b.payload != null && b.payload !== "" ? b.payload : title);
      if (!title) return;
      const btn = el("button", "choice", title);
      btn.type = "button";
      btn.setAttribute("data-testid", "choice");
      if (entry.chosen === title) btn.classList.add("chosen");
      btn.addEventListener("click", () => hooks.onChoice(index, btn, title, payload));
      group.appendChild(btn);
    });
    if (group.childNodes.length) row.appendChild(group);
  }

  return row;
}

export function addEntry(entry) {
  const { history } = state;
  history.push(entry);
  if (history.length > HISTORY_LIMIT) {
    history.splice(0, history.length - HISTORY_LIMIT);
    rerenderAll(); // indexes shifted: rebuild so choice handlers stay right
    saveHistory(history);
    return state.rowOf[state.rowOf.length - 1];
  }
  const row = renderEntry(entry, history.length - 1);
  state.rowOf.push(row);
  state.els.messages.appendChild(row);
  saveHistory(history);
  return row;
}

export function replaceRow(index) {
  const fresh = renderEntry(state.history[index], index);
  state.els.messages.replaceChild(fresh, state.rowOf[index]);
  state.rowOf[index] = fresh;
  return fresh;
}

export function rerenderAll() {
  state.els.messages.textContent = "";
  state.rowOf = state.history.map((entry, i) => {
    const row = renderEntry(entry, i);
    state.els.messages.appendChild(row);
    return row;
  });
}

/** A short note from the assistant (not stored, not sent to the server). */
export function addNote(text) {
  const row = el("div", "row row-bot");
  row.appendChild(el("span", "sr-only", TEXT.srBot));
  const bubble = el("div", "bubble bubble-bot bubble-note", text);
  bubble.setAttribute("data-testid", "bubble-bot");
  row.appendChild(bubble);
  state.els.messages.appendChild(row);
  state.latestAnchor = row;
  scrollToNewest();
}

/** Choices are usable only on assistant messages after the last delivered user message. */
export function refreshControls() {
  const { history, els, busy } = state;
  let lastUser = -1;
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].role === "user" && !history[i].failed) { lastUser = i; break; }
  }
  state.rowOf.forEach((row, idx) => {
    const live = !busy && idx > lastUser && history[idx].role === "bot" && !history[idx].chosen;
    row.querySelectorAll("button.choice").forEach((button) => { button.disabled = !live; });
  });
  els.send.disabled = busy;
  els.helpers.forEach((b) => { b.disabled = busy; });
  els.talk.disabled = busy && !hooks.holding();
  els.messages.setAttribute("aria-busy", busy ? "true" : "false");
}

export function setBusy(on, label) {
  state.busy = on;
  state.els.status.textContent = on ? (label || TEXT.waiting) : "";
  refreshControls();
  if (on) scrollToNewest();
}

/** Scroll so the newest batch is visible; if it is taller than the view, show its start. */
export function scrollToNewest() {
  window.requestAnimationFrame(() => {
    const sc = state.els.chat;
    let target = sc.scrollHeight - sc.clientHeight;
    const anchor = state.latestAnchor;
    if (anchor && anchor.isConnected) {
      const anchorTop = anchor.getBoundingClientRect().top - sc.getBoundingClientRect().top + sc.scrollTop - 12;
      if (anchorTop < target) target = Math.max(0, anchorTop);
    }
    sc.scrollTop = target;
  });
}

// ---------- Focus after a request (buttons were disabled while busy) ----------

const coarsePointer = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

export function restoreFocus(previous, newRows) {
  if (coarsePointer || !previous) return; // touch screens: moving focus only opens keyboards
  const active = document.activeElement;
  if (active && active !== document.body && !active.disabled) return; // focus is fine
  let firstChoice = null;
  for (let i = 0; i < newRows.length && !firstChoice; i++) {
    firstChoice = newRows[i].querySelector("button.choice:not(:disabled)");
  }
  if (firstChoice) { firstChoice.focus({ preventScroll: true }); return; }
  if (previous && previous.isConnected && !previous.disabled) {
    previous.focus({ preventScroll: true });
    return;
  }
  state.els.input.focus({ preventScroll: true });
}
