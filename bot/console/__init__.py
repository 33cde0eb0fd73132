"""The officer console at /console: officers and volunteers log in, watch the queue live, take a conversation,
answer on the citizen's own channel, change a report's status and hand the conversation back to the assistant.
`python -m bot.console add-user` makes accounts."""
from .routes import setup

__all__ = ["setup"]
