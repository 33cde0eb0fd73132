"""The city's reports through Open311 GeoReport v2."""
from __future__ import annotations

import re

from .http import JsonHttp

PREFIX = "/open311/v2"
CASE_ID = re.compile(r"PA-\d{4}-\d{6}")


class Open311Client:
    def __init__(self, http: JsonHttp, api_key: str):
        self.http = http
        self.api_key = api_key

    async def create(self, report: dict, idempotency_key: str) -> dict:
        """File a report; retries reuse the key so the city files it once.

        `report` holds Open311 fields (service_code, description, address_string or lat/long,
        phone, account_id, media_url…). Returns {"service_request_id", "service_notice"}.
        """
        form = {k: str(v) for k, v in report.items() if v not in (None, "")}
        form["api_key"] = self.api_key
        body = await self.http.request("POST", f"{PREFIX}/requests.json", data=form,
                                       headers={"Idempotency-Key": idempotency_key})
        return body[0]

    async def get(self, case_id: str) -> dict | None:
        """One report with its plain status and history, or None when unknown (or not a case code at all)."""
        if not CASE_ID.fullmatch(case_id or ""):
            return None
        body = await self.http.request("GET", f"{PREFIX}/requests/{case_id}.json",
                                       params={"extensions": "true"}, missing_is_none=True)
        return body[0] if body else None

    async def of_account(self, account_id: str) -> list[dict]:
        """The reports a citizen filed from this chat account, newest first."""
        # The key in a header: in the query string it would be in every access log.
        return await self.http.request("GET", f"{PREFIX}/requests.json", params={
            "account_id": account_id, "extensions": "true"}, headers={"Authorization": f"Bearer {self.api_key}"})
