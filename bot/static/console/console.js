/* The officer console: log in, watch the queue live (server-sent events), take a conversation, answer, change a
   report's status, hand back. Every text from a citizen is put on the page as text (dom.js), never as HTML. */
import { el, safeImageUrl } from "/static/chat/dom.js";

const API = "/console/api";
const CHANNELS = { web: "Web", phone: "Điện thoại", telegram: "Telegram", zalo: "Zalo" };
const REASONS = { asked: "Bác xin gặp cán bộ", not_understood: "Trợ lý chưa hiểu", stuck: "Vướng khi điền",
  undelivered: "Tin báo chưa gửi được" };
const STATUSES = { received: "Đã tiếp nhận", in_progress: "Đang xử lý", resolved: "Đã xử lý xong",
                   rejected: "Không thuộc phạm vi" };
const KNOWN = { user_name: "Tên", user_phone: "Điện thoại", category: "Loại việc", address: "Địa chỉ",
                description: "Mô tả", facility: "Nơi khám", service: "Dịch vụ", visit_day: "Ngày khám" };
const CANNED_KEY = "trolyhue-console-canned";
const CANNED = ["Dạ, cháu là cán bộ phường, cháu đang xem yêu cầu của bác ạ.",
                "Dạ, bác cho cháu xin địa chỉ cụ thể giúp cháu ạ.",
                "Dạ, cháu đã chuyển cho tổ xử lý, bác yên tâm ạ."];

const state = { me: null, open: null, events: null, searching: false };
const $ = (id) => document.getElementById(id);

async function call(path, options = {}) {
  const headers = { "Accept": "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (state.me && options.method === "POST") headers["X-CSRF-Token"] = state.me.csrf;
  const response = await fetch(API + path, { method: options.method || "GET", headers, credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/login") showLogin();
  if (!response.ok) throw new Error(data.error || "Có lỗi, vui lòng thử lại.");
  return data;
}

function showLogin() {
  state.me = null;
  if (state.events) state.events.close();
  $("login").hidden = false;
  $("desk").hidden = true;
  $("who").hidden = true;
}

function showDesk(me) {
  state.me = me;
  $("login").hidden = true;
  $("desk").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `${me.name} (${me.role === "officer" ? "cán bộ" : "tình nguyện viên"})`;
  loadCanned();
  refreshQueue();
  listen();
}

function listen() {
  if (state.events) state.events.close();
  state.events = new EventSource(API + "/events");
  state.events.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (event.type === "queue" && !state.searching) refreshQueue();
    if (event.type === "idle" && event.holder === state.me.username) {
      $("notice").textContent = "Bác đang chờ bạn trả lời; sau 30 phút cuộc trò chuyện sẽ về lại hàng chờ.";
    }
    if (event.type === "queue" && state.open === event.conversation) openConversation(event.conversation);
    if ((event.type === "message" || event.type === "delivery") && state.open === event.conversation) {
      openConversation(event.conversation);
    }
  };
}

function waited(since) {
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 60000));
  return minutes < 60 ? `${minutes} phút` : `${Math.floor(minutes / 60)} giờ ${minutes % 60} phút`;
}

async function refreshQueue() {
  showList((await call("/queue")).conversations);
}

function showList(conversations) {
  const list = $("queue");
  list.replaceChildren();
  $("queue-empty").hidden = conversations.length > 0;
  for (const c of conversations) {
    const button = el("button", null);
    button.type = "button";
    button.dataset.conversation = String(c.id);
    button.setAttribute("aria-current", String(state.open === c.id));
    button.append(el("strong", null, REASONS[c.reason] || c.reason),
                  el("span", "badge", CHANNELS[c.channel] || c.channel),
                  el("span", "muted", `Chờ ${waited(c.since)}` + (c.holder ? ` · ${c.holder_name} đang giữ` : "")));
    button.addEventListener("click", () => openConversation(c.id));
    const item = el("li", null);
    item.append(button);
    list.append(item);
  }
}

async function openConversation(id) {
  state.open = id;
  let data;
  try {
    data = await call(`/conversations/${id}`);
  } catch (error) {
    $("notice").textContent = error.message;
    return;
  }
  const c = data.conversation;
  $("conversation").hidden = false;
  $("title").textContent = `${CHANNELS[c.channel] || c.channel} · ${REASONS[c.reason] || c.reason}`;
  const mine = c.status === "held" && c.holder === state.me.username;
  $("take").hidden = mine || c.status === "closed";
  $("hand-back").hidden = !mine;
  $("reply").hidden = !mine;
  $("assign").hidden = state.me.role !== "officer" || c.status === "closed";
  $("export").href = `${API}/conversations/${id}/transcript.txt`;
  const context = $("context");
  context.replaceChildren();
  const known = Object.assign({}, c.context.known || {});
  if (c.context.form) known.form = c.context.form;
  for (const [key, value] of Object.entries(known)) {
    context.append(el("dt", null, KNOWN[key] || (key === "form" ? "Đang làm" : key)), el("dd", null, String(value)));
  }
  const transcript = $("transcript");
  transcript.replaceChildren();
  for (const m of data.messages) transcript.append(messageItem(m, mine));
  transcript.scrollTop = transcript.scrollHeight;
  showReports(data.reports || []);
  showVisits(data.appointments || []);
  document.querySelectorAll("#queue button").forEach((b) => {
    b.setAttribute("aria-current", String(b.dataset.conversation === String(id)));
  });
}

function messageItem(m, mine) {
  const item = el("li", m.author);
  const who = m.author === "citizen" ? "Bác" : m.author === "officer" ? `Cán bộ ${m.officer || ""}` : "Trợ lý";
  item.append(el("span", "who", who), document.createTextNode(m.text));
  const image = safeImageUrl(m.image);
  if (image) {
    const img = el("img", null);
    img.src = image;
    img.alt = "Ảnh bác gửi";
    item.append(img);
  }
  if (m.audio && /^[0-9a-f]{32}\.ogg$/.test(m.audio)) {
    const audio = el("audio", null);
    audio.controls = true;
    audio.preload = "none";
    audio.src = `${API}/recordings/${m.audio}`;
    item.append(audio);
  }
  if (m.delivery === "failed") {
    item.append(el("span", "failed", "Chưa gửi được."));
    if (mine) {
      const again = el("button", null, "Gửi lại");
      again.type = "button";
      again.addEventListener("click", () => act(`/conversations/${state.open}/messages/${m.id}/retry`));
      item.append(again);
    }
  } else if (m.delivery === "waiting") {
    item.append(el("span", "muted", " (chờ bác mở lại trang)"));
  }
  return item;
}

function showReports(reports) {
  const list = $("reports");
  list.replaceChildren();
  for (const r of reports) {
    const item = el("li", null);
    item.append(el("strong", null, `${r.service_request_id} · ${r.service_name || r.service_code}`),
                el("span", null, r.description || ""),
                el("span", "muted", r.address || ""));
    if (state.me.role === "officer") {
      const row = el("div", "row");
      const select = el("select", null);
      select.setAttribute("aria-label", "Trạng thái mới");
      for (const [value, label] of Object.entries(STATUSES)) {
        const option = el("option", null, label);
        option.value = value;
        select.append(option);
      }
      const current = (r.extended_attributes || {}).detailed_status;
      if (current in STATUSES) select.value = current;
      const save = el("button", null, "Cập nhật trạng thái");
      save.type = "button";
      save.dataset.report = r.service_request_id;
      save.addEventListener("click", () => act(`/reports/${r.service_request_id}/status`,
                                                { status: select.value }, "Đã cập nhật trạng thái."));
      row.append(select, save);
      item.append(row);
    }
    list.append(item);
  }
}

function showVisits(visits) {
  const list = $("visits");
  list.replaceChildren();
  for (const v of visits) {
    const when = new Date(v.start).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "full",
                                                            timeStyle: "short" });
    const item = el("li", null);
    item.append(el("strong", null, `${v.id} · ${v.what || ""}`), el("span", null, when),
                el("span", "muted", v.where || ""));
    list.append(item);
  }
}

async function act(path, body = {}, done = "") {
  try {
    await call(path, { method: "POST", body });
    $("notice").textContent = done;
  } catch (error) {
    $("notice").textContent = error.message;
  }
  if (state.open) openConversation(state.open);
}

function cannedAnswers() {
  try {
    const saved = JSON.parse(localStorage.getItem(CANNED_KEY));
    return Array.isArray(saved) ? saved : CANNED;
  } catch (e) {
    return CANNED;
  }
}

function loadCanned() {
  const canned = cannedAnswers();
  const select = $("canned");
  select.replaceChildren(el("option", null, "— chọn câu mẫu —"));
  for (const text of canned) select.append(el("option", null, text));
}

function wire() {
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      showDesk(await call("/login", { method: "POST",
        body: { username: $("username").value, password: $("password").value } }));
      $("password").value = "";
      state.me.username = $("username").value.trim();
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    await call("/logout", { method: "POST", body: {} }).catch(() => {});
    showLogin();
  });
  $("take").addEventListener("click", () => act(`/conversations/${state.open}/take`, {}, "Bạn đang giữ cuộc trò chuyện này."));
  $("hand-back").addEventListener("click", () => act(`/conversations/${state.open}/hand-back`, {}, "Đã trả lại cho trợ lý."));
  let typingSent = 0;
  $("reply-text").addEventListener("input", () => {
    if (Date.now() - typingSent < 4000 || !state.open) return;  // the citizen's app shows it for a few seconds
    typingSent = Date.now();
    call(`/conversations/${state.open}/typing`, { method: "POST", body: {} }).catch(() => {});
  });
  $("canned").addEventListener("change", (e) => {
    if (e.target.selectedIndex > 0) $("reply-text").value = e.target.value;
  });
  $("save-canned").addEventListener("click", () => {
    const text = $("reply-text").value.trim();
    if (!text) return;
    localStorage.setItem(CANNED_KEY, JSON.stringify([...cannedAnswers().filter((t) => t !== text), text]));
    loadCanned();
    $("notice").textContent = "Đã lưu câu mẫu.";
  });
  $("assign").addEventListener("submit", (e) => {
    e.preventDefault();
    act(`/conversations/${state.open}/assign`, { volunteer: $("assign-to").value.trim() }, "Đã giao.");
  });
  $("search").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const { conversations } = await call("/search?q=" + encodeURIComponent($("search-text").value.trim()));
      state.searching = true;
      $("list-title").textContent = "Kết quả tìm";
      $("show-queue").hidden = false;
      showList(conversations);
    } catch (error) {
      $("notice").textContent = error.message;
    }
  });
  $("show-queue").addEventListener("click", () => {
    state.searching = false;
    $("list-title").textContent = "Hàng chờ";
    $("show-queue").hidden = true;
    refreshQueue();
  });
  $("reply").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text) return;
    const choices = $("reply-choices").value.split(",").map((s) => s.trim()).filter(Boolean);
    await act(`/conversations/${state.open}/reply`, { text, choices });
    $("reply-text").value = "";
    $("reply-choices").value = "";
  });
}

wire();
call("/me").then(showDesk).catch(showLogin);
