"""JSON responses, and errors in each protocol's own format: never a stack trace."""
from __future__ import annotations

import functools
import json
import logging

from aiohttp import web

from common.database import is_transient

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"

# UTF-8 on the wire rather than \u escapes: the texts are Vietnamese.
dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_response(data, **kwargs) -> web.Response:
    return web.json_response(data, dumps=dumps, **kwargs)


class ApiError(Exception):
    """Raised by handlers; the middleware renders it for the protocol of the path."""

    def __init__(self, status: int, message: str, fhir_code: str = "invalid"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fhir_code = fhir_code


async def read_json(request: web.Request):
    """The request body as JSON, or a 400 in the protocol's format."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Nội dung gửi lên phải là JSON hợp lệ.", "structure") from None


def operation_outcome(diagnostics: str, code: str, severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


_FHIR_CODE_BY_STATUS = {401: "security", 403: "security", 404: "not-found",
                        405: "not-supported", 409: "conflict", 415: "not-supported"}

_GENERIC_MESSAGES = {
    401: "Thiếu hoặc sai mã xác thực.",
    403: "Thiếu hoặc sai khóa API (api_key).",
    404: "Không tìm thấy địa chỉ này.",
    405: "Phương thức HTTP này không được hỗ trợ ở đây.",
    413: "Dữ liệu gửi lên quá lớn.",
    500: "Hệ thống đang gặp sự cố, xin vui lòng thử lại sau.",
    503: "Cơ sở dữ liệu đang khởi động lại, xin vui lòng thử lại sau ít giây.",
}


def render(request: web.Request, status: int, message: str, fhir_code: str | None = None,
           headers: dict | None = None) -> web.Response:
    if request.path.startswith("/fhir/"):
        code = fhir_code or _FHIR_CODE_BY_STATUS.get(status, "invalid" if status < 500 else "exception")
        return json_response(operation_outcome(message, code), status=status,
                                 content_type=FHIR_JSON, headers=headers)
    if request.path.startswith("/open311/"):
        return json_response([{"code": status, "description": message}], status=status,
                                 headers=headers)
    return json_response({"error": {"code": status, "description": message}}, status=status,
                             headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return render(request, error.status, error.message, error.fhir_code)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return render(request, error.status,
                      _GENERIC_MESSAGES.get(error.status, error.reason), headers=allow)
    except Exception as error:
        if is_transient(error):  # the database restarting: a client may try again (the actions do)
            log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
            return render(request, 503, _GENERIC_MESSAGES[503], headers={"Retry-After": "2"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render(request, 500, _GENERIC_MESSAGES[500])
