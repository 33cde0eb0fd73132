"""The city's erasure of what links a chat account to a person (cityapi's /privacy/forget)."""
from __future__ import annotations

from .http import JsonHttp


class PrivacyClient:
    def __init__(self, http: JsonHttp, api_key: str):
        self.http = http
        self.auth = {"Authorization": f"Bearer {api_key}"}

    async def forget(self, account_id: str) -> dict:
        """Reports keep their content and lose phone and name; clinic patients are unlinked from the account."""
        return await self.http.request("POST", "/privacy/forget", json={"account_id": account_id}, headers=self.auth)
