"""What every FHIR resource module shares: search parameters, Bundles, errors, codes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncConnection

from common.clock import to_utc

from ..catalog import CLINIC_SERVICE_SYSTEM, CLINIC_SERVICES
from ..responses import FHIR_JSON, ApiError, json_response

DEFAULT_COUNT = 50
MAX_COUNT = 500
_PAGING = {"_count", "_offset"}
_IGNORED = {"_format", "_pretty"}


def query(request: web.Request, allowed: set[str]) -> MultiDictProxy:
    """The search parameters, refusing unknown ones (strict handling, clearer for clients)."""
    unknown = sorted(set(request.query) - allowed - _PAGING - _IGNORED)
    if unknown:
        raise ApiError(400, f"Tham số tìm kiếm không được hỗ trợ: {', '.join(unknown)}.", "not-supported")
    return request.query


def paging(params: MultiDictProxy) -> tuple[int, int]:
    try:
        count = int(params.get("_count", DEFAULT_COUNT))
        offset = int(params.get("_offset", 0))
    except ValueError:
        raise ApiError(400, "_count và _offset phải là số nguyên.") from None
    if count < 0 or offset < 0:
        raise ApiError(400, "_count và _offset không được âm.")
    return min(count, MAX_COUNT), offset


def token(value: str) -> tuple[str | None, str]:
    """`system|code`, `|code` or `code` -> (system or None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def reference_id(value: str, resource_type: str) -> str:
    """`Location/abc`, a full URL ending so, or a bare id -> `abc`."""
    value = value.strip().rstrip("/")
    if "/" in value:
        kind, _, ident = value.rpartition("/")
        if kind.rsplit("/", 1)[-1] != resource_type:
            raise ApiError(400, f"Tham chiếu phải tới {resource_type}: {value}.")
        return ident
    return value


@dataclass(frozen=True)
class DateBound:
    prefix: str
    low: datetime   # naive UTC, inclusive
    high: datetime  # naive UTC, exclusive


_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def date_bound(raw: str) -> DateBound:
    """`ge2026-12-01`, `lt2026-12-01T12:00:00+07:00`… A value without offset is Huế time."""
    prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
    value = raw[2:] if raw[:2] in _PREFIXES else raw
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise ApiError(400, f"Tiền tố ngày '{prefix}' không được hỗ trợ.", "not-supported")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            low = to_utc(datetime.combine(day, time()))
            return DateBound(prefix, low, low + timedelta(days=1))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Ngày giờ không đọc được: {raw}. Ví dụ: ge2026-12-01T07:00:00+07:00.") from None
    low = to_utc(moment)
    return DateBound(prefix, low, low + timedelta(seconds=1))


def date_clauses(column, raws: list[str]) -> list:
    """SQL conditions for repeated date parameters (ANDed), on an instant column."""
    clauses = []
    for bound in map(date_bound, raws):
        clauses.append({
            "eq": (column >= bound.low) & (column < bound.high),
            "ge": column >= bound.low,
            "gt": column >= bound.high,
            "lt": column < bound.low,
            "le": column < bound.high,
        }[bound.prefix])
    return clauses


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}/fhir/R4"


def resource_response(request: web.Request, resource: dict, status: int = 200) -> web.Response:
    headers = {}
    if status == 201:
        headers["Location"] = f"{base_url(request)}/{resource['resourceType']}/{resource['id']}"
    if "meta" in resource and "versionId" in resource["meta"]:
        headers["ETag"] = f'W/"{resource["meta"]["versionId"]}"'
    return json_response(resource, status=status, content_type=FHIR_JSON, headers=headers)


def bundle(request: web.Request, resources: list[dict], total: int, count: int,
           offset: int) -> web.Response:
    base = base_url(request)
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < total:
        links.append({"relation": "next",
                      "url": str(request.url.update_query(_offset=offset + count, _count=count))})
    return json_response({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }, content_type=FHIR_JSON)


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"Không tìm thấy {kind}/{ident}.", "not-found")


def service_type(code: str) -> list[dict]:
    display = CLINIC_SERVICES[code][0]
    return [{"coding": [{"system": CLINIC_SERVICE_SYSTEM, "code": code, "display": display}],
             "text": display}]


def service_codes(values: list[str]) -> list[str]:
    """service-type tokens (comma = OR) -> our codes; unknown codes match nothing."""
    codes = []
    for value in values:
        for item in value.split(","):
            system, code = token(item)
            if system not in (None, "", CLINIC_SERVICE_SYSTEM):
                raise ApiError(400, f"Hệ mã dịch vụ không được hỗ trợ: {system}.")
            codes.append(code)
    return codes


async def one_row(conn: AsyncConnection, statement, kind: str, ident: str) -> sa.Row:
    row = (await conn.execute(statement)).first()
    if row is None:
        raise not_found(kind, ident)
    return row
