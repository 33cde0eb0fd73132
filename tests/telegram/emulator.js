// The Bot API on loopback for the Telegram tests: the npm emulator telegram-test-api, with what it lacks for
// python-telegram-bot 22 and for our channel. Usage: node emulator.js PORT
"use strict";
const crypto = require("crypto");
const TelegramServer = require("telegram-test-api");
const { routes } = require("telegram-test-api/lib/routes/index");

const files = new Map(); // file_id -> Buffer: what users and the bot sent

function rawBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function keep(buffer) {
  const id = crypto.randomBytes(12).toString("hex");
  files.set(id, buffer);
  return { file_id: id, file_unique_id: id, file_size: buffer.length };
}

// Multipart (a file upload) or the fields express already parsed.
async function fields(req) {
  const type = req.headers["content-type"] || "";
  if (!type.startsWith("multipart/form-data")) return req.body || {};
  const form = await new Response(await rawBody(req), { headers: { "content-type": type } }).formData();
  const out = {};
  for (const [name, value] of form.entries()) {
    out[name] = typeof value === "string" ? value : Buffer.from(await value.arrayBuffer());
  }
  return out;
}

function sendFile(kind) {
  return (app, server) => app.post(`/bot:token/send${kind[0].toUpperCase()}${kind.slice(1)}`, async (req, res) => {
    try {
      const body = await fields(req);
      const given = body[kind];
      const file = Buffer.isBuffer(given) ? keep(given) : { url: given };
      if (kind === "voice") file.duration = Number(body.duration || 1);
      if (kind === "photo") Object.assign(file, { width: 1, height: 1 });
      const message = { chat_id: body.chat_id, caption: body.caption, reply_markup: body.reply_markup };
      message[kind] = kind === "photo" ? [file] : file;
      res.json({ ok: true, result: server.addBotMessage(message, req.params.token) });
    } catch (error) {
      res.status(400).json({ ok: false, error_code: 400, description: String(error) });
    }
  });
}

routes.unshift(
  // Fixed: PTB refuses a getMe without is_bot.
  (app) => app.all("/bot:token/getMe", (_req, res) => res.json({ ok: true, result: {
    id: 666, is_bot: true, first_name: "Trợ lý Huế", username: "TroLyHueTestBot" } })),
  sendFile("photo"),
  sendFile("voice"),
  (app) => app.all("/bot:token/sendChatAction", (_req, res) => res.json({ ok: true, result: true })),
  (app) => app.all("/bot:token/getFile", (req, res) => {
    const id = (req.body || {}).file_id || req.query.file_id;
    if (!files.has(id)) return res.status(400).json({ ok: false, error_code: 400, description: "Bad Request: invalid file_id" });
    res.json({ ok: true, result: { file_id: id, file_unique_id: id, file_size: files.get(id).length, file_path: `files/${id}` } });
  }),
  (app) => app.get("/file/bot:token/files/:id", (req, res) => {
    if (!files.has(req.params.id)) return res.status(404).end();
    res.type("application/octet-stream").send(files.get(req.params.id));
  }),
  // For the simulated user: upload a file to attach to a message, read a file the bot sent.
  (app) => app.post("/putFile", async (req, res) => res.json({ ok: true, result: keep(await rawBody(req)) })),
  (app) => app.get("/file/:id", (req, res) => {
    if (!files.has(req.params.id)) return res.status(404).end();
    res.type("application/octet-stream").send(files.get(req.params.id));
  }),
);

// Fixed: Telegram's dates are in seconds; the emulator gives the bot's sent messages milliseconds.
const addBotMessage = TelegramServer.prototype.addBotMessage;
TelegramServer.prototype.addBotMessage = function (...args) {
  const message = addBotMessage.apply(this, args);
  return { ...message, date: Math.floor(message.date / 1000) };
};

// Fixed: a callback query has a chat_instance.
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function (update) {
  const formatted = formatUpdate(update);
  if (formatted.callback_query) formatted.callback_query.chat_instance = String(update.callbackQuery.from.id);
  return formatted;
};

// Added: Telegram sends a webhook's secret_token in a header on every update it posts.
TelegramServer.prototype.addUserUpdate = async function (update) {
  const webhook = this.webhooks[update.botToken];
  if (webhook) {
    const headers = webhook.secret_token ? { "X-Telegram-Bot-Api-Secret-Token": webhook.secret_token } : {};
    const response = await fetch(webhook.url, { method: "POST", headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(TelegramServer.formatUpdate(update)) });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  } else {
    this.storage.userMessages.push(update);
  }
  this.updateId++;
};

const server = new TelegramServer({ port: Number(process.argv[2]), host: "127.0.0.1", storeTimeout: 600 });
server.start().then(() => console.log("telegram emulator ready"));
process.on("SIGTERM", () => server.stop().then(() => process.exit(0)));
