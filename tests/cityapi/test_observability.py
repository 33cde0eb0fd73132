"""What operators read (common/observability.py, common/logs.py): the request id in and out and in every log line,
Prometheus metrics by route, readiness, and JSON log lines without phone numbers. Against the real cityapi."""
from __future__ import annotations

import json
import logging
import shutil

from cityapi.context import ENGINE
from common.logs import JsonFormatter, MaskingFilter, request_id


async def test_a_request_id_is_kept_or_made_and_sent_back(client):
    given = await client.get("/open311/v2/services.json", headers={"X-Request-ID": "gateway-0123456789"})
    assert given.status == 200 and given.headers["X-Request-ID"] == "gateway-0123456789"
    made = await client.get("/open311/v2/services.json", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert made.headers["X-Request-ID"] != "<script>alert(1)</script>" and len(made.headers["X-Request-ID"]) == 32
    missing = await client.get("/open311/v2/requests/PA-2026-999999.json")
    assert missing.status == 404 and len(missing.headers["X-Request-ID"]) == 32  # errors carry one too


async def test_metrics_count_requests_by_route_not_by_path(client):
    for case in ("PA-2026-999998", "PA-2026-999997"):
        await client.get(f"/open311/v2/requests/{case}.json")
    metrics = await (await client.get("/metrics")).text()
    series = 'http_requests_total{method="GET",route="/open311/v2/requests/{id}.json",service="cityapi",status="404"}'
    counted = [line for line in metrics.splitlines() if line.startswith(series)]
    assert counted and float(counted[0].split()[-1]) >= 2
    assert "PA-2026-999998" not in metrics  # no case id as a label: one series per route
    assert 'http_request_seconds_bucket{le="0.1",route="/open311/v2/requests/{id}.json",service="cityapi"}' in metrics


async def test_ready_only_while_the_database_answers(client, database_url, tmp_path):
    ready = await client.get("/ready")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"
    if not database_url.startswith("sqlite"):
        return  # a PostgreSQL restart is bench/faults.py's
    await client.server.app[ENGINE].dispose()  # its open connections closed, the database goes away
    shutil.rmtree(tmp_path)
    unready = await client.get("/ready")
    assert unready.status == 503 and "database" in (await unready.json())["failed"]
    assert (await client.get("/health")).status == 200  # alive all the same: not a reason to restart it


def test_json_log_lines_carry_the_request_id_and_no_phone_number():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "gọi lại %s", ("0905 123 456",), None)
    request_id.set("req-0123456789")
    MaskingFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-0123456789" and line["level"] == "INFO" and line["logger"] == "bot"
    assert "0905" not in line["message"] and "123 456" not in line["message"]


async def test_with_its_database_gone_a_client_is_told_to_try_again(client, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        return  # bench/faults.py restarts PostgreSQL under load
    await client.server.app[ENGINE].dispose()
    shutil.rmtree(tmp_path)
    response = await client.get("/open311/v2/requests.json", params={"service_request_id": "PA-2026-000001"})
    assert response.status == 503 and response.headers["Retry-After"] == "2"
    assert (await response.json())[0]["code"] == 503  # Open311's error format
    fhir = await client.get("/fhir/R4/Slot", params={"schedule": "x"})
    assert fhir.status == 503 and (await fhir.json())["resourceType"] == "OperationOutcome"
