"""The channel gateway: web chat today; Telegram, Zalo, the hotline and the officer console join it."""
