"""Forgetting a citizen on request ("xóa thông tin của tui"), after a confirmation.

The city erases the contact details of the sender's reports and unlinks its clinic patients; the action server
drops the phone of kept reports; the slot `forget_me` makes Rasa's tracker store delete the conversation
(rasa_stores/tracker_store.py); the gateway deletes the sender's photos that no report carries and its officer
conversations, told so by a `forget` message addressed to it.
"""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from .services import services

# The message to the gateway, which owns the uploads: the sender's photos not listed here are deleted.
GATEWAY_FORGET = "forget"


async def forget(dispatcher, tracker) -> list:
    city = await services()
    await city.privacy.forget(tracker.sender_id)  # first: if the city is down, nothing is forgotten yet
    kept = await city.store.forget(tracker.sender_id)
    filed = [r["media_url"] for r in await city.open311.of_account(tracker.sender_id) if r.get("media_url")]
    dispatcher.utter_message(response="utter_forgotten")
    dispatcher.utter_message(json_message={GATEWAY_FORGET: {"keep_photos": sorted(set(kept + filed))}})
    return [SlotSet("forget_me", True)]
