"""Shape checks written from the GeoReport v2 spec (docs/research/open311-georeport-v2.md)."""
from __future__ import annotations

import re

# "Timezone information (either Z meaning UTC, or an HH:MM offset from UTC) must be included."
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
}


def _optional_str(value) -> bool:
    return value is None or isinstance(value, str)


def check_discovery(doc) -> None:
    assert isinstance(doc, dict)
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(doc)  # "All fields are required."
    assert all(isinstance(doc[k], str) and doc[k] for k in ("changeset", "contact", "key_service"))
    assert doc["endpoints"]
    for endpoint in doc["endpoints"]:
        assert {"specification", "url", "changeset", "type", "formats"} <= set(endpoint)
        assert endpoint["type"] in ("production", "test")
        assert isinstance(endpoint["formats"], list) and "application/json" in endpoint["formats"]


def check_service_list(services) -> None:
    assert isinstance(services, list) and services
    for service in services:
        assert {"service_code", "service_name", "description", "metadata", "type",
                "keywords", "group"} <= set(service)
        assert isinstance(service["service_code"], str) and service["service_code"]
        assert isinstance(service["metadata"], bool)
        assert service["type"] in ("realtime", "batch", "blackbox")
        assert isinstance(service["keywords"], str)  # a comma separated string, not an array
        assert isinstance(service["group"], str)
    codes = [s["service_code"] for s in services]
    assert len(codes) == len(set(codes))


def check_service_definition(definition, code: str) -> None:
    assert isinstance(definition, dict)  # an object, not an array
    assert definition["service_code"] == code
    orders = []
    for attribute in definition["attributes"]:
        assert {"variable", "code", "datatype", "required", "datatype_description", "order",
                "description"} <= set(attribute)
        assert isinstance(attribute["variable"], bool) and isinstance(attribute["required"], bool)
        assert attribute["datatype"] in DATATYPES
        assert _optional_str(attribute["datatype_description"])
        assert isinstance(attribute["order"], int) and attribute["order"] > 0
        orders.append(attribute["order"])
        if attribute["datatype"].endswith("valuelist"):
            assert attribute["values"]
            assert all({"key", "name"} <= set(v) for v in attribute["values"])
    assert len(orders) == len(set(orders))  # "not used for other attributes in the same service_code"


def check_post_response(body) -> str:
    assert isinstance(body, list) and len(body) == 1
    item = body[0]
    # service_request_id for a realtime service, and then never a token.
    assert "token" not in item
    assert isinstance(item["service_request_id"], str)
    assert _optional_str(item.get("service_notice"))
    return item["service_request_id"]


def check_request(item) -> None:
    assert REQUEST_FIELDS <= set(item)
    assert item["status"] in ("open", "closed")
    for key in ("requested_datetime", "updated_datetime"):
        assert W3C_DATETIME.fullmatch(item[key]), item[key]
    assert item["expected_datetime"] is None or W3C_DATETIME.fullmatch(item["expected_datetime"])
    for key in ("status_notes", "description", "agency_responsible", "service_notice",
                "address", "media_url"):
        assert _optional_str(item[key]), key
    for key in ("lat", "long"):
        assert item[key] is None or isinstance(item[key], float)


def check_request_list(body) -> None:
    assert isinstance(body, list)
    for item in body:
        check_request(item)


def check_error(body, code: int) -> None:
    assert isinstance(body, list) and body
    for error in body:
        assert set(error) == {"code", "description"}
        assert error["code"] == code
        assert isinstance(error["description"], str) and error["description"]
