"""The channel gateway: the web chat, the hotline, Telegram and Zalo, and the officer console, in front of Rasa."""
