import logging

import pytest

from common.logs import MaskingFilter, mask_secrets, masked


@pytest.mark.parametrize("line, secret", [
    ('127.0.0.1 "GET /open311/v2/requests.json?account_id=web-1&api_key=s3cr3tKEY123 HTTP/1.1" 200', "s3cr3tKEY123"),
    ("POST /open311/v2/requests.json api_key=s3cr3tKEY123&service_code=rac_thai", "s3cr3tKEY123"),
    ("headers: {'Authorization': 'Bearer s3cr3tKEY123', 'Accept': '*/*'}", "s3cr3tKEY123"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ('{"access_token": "s3cr3tKEY123", "refresh_token": "r3fr3sh"}', "r3fr3sh"),
    ("GET /status?token=s3cr3tKEY123", "s3cr3tKEY123"),
    ("X-Twilio-Signature: oVb2kXoVy8GEfwBDjR8bk/ZZ6eA=", "oVb2kXoVy8GEfwBDjR8bk"),
    ("X-ZEvent-Signature: mac=9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d659a2feaa0c55ad015"),
    ('"GET /hotline/WyJDQTEiLCIrODQ5MDUiXQ.q9Vx-2_Ad HTTP/1.1" 101', "WyJDQTEiLCIrODQ5MDUiXQ"),
    ("POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates", "AAHdqTcvCH1vGW"),
    ("GET https://api.telegram.org/file/bot123456:AAHdqTcvCH1v-GWJ/voice/file_1.oga", "AAHdqTcvCH1v"),
])
def test_no_secret_survives(line, secret):
    assert secret not in mask_secrets(line)
    assert "***" in mask_secrets(line)


def test_ordinary_words_stay():
    line = "GET /open311/v2/requests/PA-2026-000123.json?extensions=true 200 (token of thanks: none)"
    assert masked(line).startswith("GET /open311/v2/requests/PA-2026-000123.json?extensions=true 200")


def test_the_filter_rewrites_records_and_their_tracebacks(caplog):
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("gọi lại cho %s, %s", "0914 000 111", "0234 3822 325")
        try:
            raise RuntimeError("GET /x?api_key=s3cr3tKEY123 failed for 0905123456")
        except RuntimeError:
            logger.exception("failed")
    assert caplog.messages[0] == "gọi lại cho 091*****11, 023******25"
    assert "s3cr3tKEY123" not in caplog.records[1].exc_text and "0905123456" not in caplog.records[1].exc_text
