"""The mock CRM's REST routes (Powertools resolver with request validation): translate, delegate, answer."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel

from workers.crm_api.logic import CrmError, CrmService, etag, parse_if_match
from workers.crm_api.models import Case, CaseIn, CaseList, CasePatch, Customer, CustomerIn, ErrorBody
from workers.shared.runtime.http import service_of

TITLE = "supportflow mock CRM"
VERSION = "1.0.0"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
CustomerId = Annotated[str, Path(pattern=_ID_PATTERN, description="The customer's id in the CRM.")]
TicketId = Annotated[str, Path(pattern=_ID_PATTERN, description="The support ticket the case is for.")]
CaseId = Annotated[str, Path(pattern=_ID_PATTERN, description="The case id the CRM gave.")]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='The ETag read last ("<version>"); required to change a record.')
]
_ETAG_HEADER: dict[str, OpenAPIResponseHeader] = {
    "ETag": {"description": "The record's version, for If-Match.", "schema": {"type": "string"}}
}


def _responses(ok: dict[int, str], model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    """The documented answers of a route: its successes (with ETag) and the one error shape."""
    responses: dict[int, OpenAPIResponse] = {
        status: {"description": text, "headers": _ETAG_HEADER, "content": {"application/json": {"model": model}}}
        for status, text in ok.items()
    }
    for status, text in (
        (400, "The body is not UTF-8 text."),
        (404, "No such customer or case."),
        (412, "If-Match does not name the stored version."),
        (422, "The request failed validation."),
        (415, "The body is not JSON."),
        (428, "If-Match is required to change an existing record."),
    ):
        responses[status] = {"description": text, "content": {"application/json": {"model": ErrorBody}}}
    return responses


app = APIGatewayRestResolver(enable_validation=True)
app.configure_openapi(
    title=TITLE,
    version=VERSION,
    description="Customers and their cases, one case per support ticket, with optimistic versions (ETag/If-Match).",
    security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
    security=[{"apiKey": []}],
)


def _service() -> CrmService:
    return service_of(app, CrmService)


def _answer(model: Customer | Case | CaseList, status: int = 200, version: int | None = None) -> Response[object]:
    headers = {"ETag": etag(version)} if version is not None else {}
    return Response(status_code=status, content_type="application/json", body=model, headers=headers)


@app.exception_handler(CrmError)  # type: ignore[untyped-decorator]
def _crm_error(error: CrmError) -> Response[ErrorBody]:
    return Response(
        status_code=error.status,
        content_type="application/json",
        body=ErrorBody(code=error.code, message=str(error)),
    )


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _invalid_request(error: RequestValidationError) -> Response[ErrorBody]:
    # Field paths and messages only: the submitted values may be personal data.
    problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in error.errors())
    return Response(
        status_code=422,
        content_type="application/json",
        body=ErrorBody(code="validation_error", message=problems or "invalid request"),
    )


def _refuse(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": ErrorBody(code=code, message=message).model_dump_json(),
        "isBase64Encoded": False,
    }


def refuse_unreadable_body(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Refuse a body that is not UTF-8 JSON before anything parses it; None lets routing go on."""
    headers = event.get("headers") or {}
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = event.get("body")
    if body and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return _refuse(415, "unsupported_media_type", "send the body as application/json")
    if body and event.get("isBase64Encoded"):
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError both are
            return _refuse(400, "unreadable_body", "the body is not UTF-8 text")
    return None


@app.get("/customers/<customer_id>", responses=_responses({200: "The customer."}, Customer))
def get_customer(customer_id: CustomerId) -> Response[Customer]:
    """Read a customer; the ETag is its version."""
    customer = _service().get_customer(customer_id)
    return _answer(customer, version=customer.version)  # type: ignore[return-value]


@app.put(
    "/customers/<customer_id>",
    responses=_responses({200: "Replaced.", 201: "Created."}, Customer),
)
def put_customer(customer_id: CustomerId, body: CustomerIn, if_match: IfMatch = None) -> Response[Customer]:
    """Create a customer (no If-Match) or replace it (If-Match: its ETag)."""
    customer, created = _service().put_customer(customer_id, body, parse_if_match(if_match))
    return _answer(customer, 201 if created else 200, customer.version)  # type: ignore[return-value]


@app.put(
    "/customers/<customer_id>/cases/<ticket_id>",
    responses=_responses({200: "Already there (a retry), or replaced.", 201: "Created."}, Case),
)
def put_case(customer_id: CustomerId, ticket_id: TicketId, body: CaseIn, if_match: IfMatch = None) -> Response[Case]:
    """The case of a ticket: created once (a retry returns it unchanged); replaced under If-Match."""
    case, created = _service().put_case(customer_id, ticket_id, body, parse_if_match(if_match))
    return _answer(case, 201 if created else 200, case.version)  # type: ignore[return-value]


@app.get("/customers/<customer_id>/cases", responses=_responses({200: "The customer's cases."}, CaseList))
def list_cases(customer_id: CustomerId) -> Response[CaseList]:
    """Every case of a customer, oldest first."""
    return _answer(_service().list_cases(customer_id))  # type: ignore[return-value]


@app.get("/cases/<case_id>", responses=_responses({200: "The case."}, Case))
def get_case(case_id: CaseId) -> Response[Case]:
    """Read a case; the ETag is its version."""
    case = _service().get_case(case_id)
    return _answer(case, version=case.version)  # type: ignore[return-value]


@app.patch("/cases/<case_id>", responses=_responses({200: "Updated."}, Case))
def patch_case(case_id: CaseId, body: CasePatch, if_match: IfMatch = None) -> Response[Case]:
    """Change some fields of a case and append notes, under If-Match."""
    case = _service().patch_case(case_id, body, parse_if_match(if_match))
    return _answer(case, version=case.version)  # type: ignore[return-value]
