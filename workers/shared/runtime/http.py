"""The runtime of an API Gateway REST worker: one resolver of routes, its service built once per cold start.

The SQS runtime's twin for HTTP: a worker is its routes (a Powertools resolver whose handlers read the
service from ``resolver.context["service"]``), its wiring (a function that builds the service from
settings) and a handler of one line::

    lambda_handler = http_worker(app, build=build_service, service="crm-api")

No module global holds the service: the handler object builds it on its first request (under a lock, so
threads share one) and keeps it; a test builds its own handler around a fake service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from workers.shared.runtime.function import PowertoolsHandler

__all__ = ["SERVICE_KEY", "HttpWorker", "http_worker", "service_of"]

S = TypeVar("S")
SERVICE_KEY = "service"
# Answers a request before routing (e.g. a body the resolver cannot parse); None lets routing go on.
Guard = Callable[[Mapping[str, Any]], dict[str, Any] | None]


class HttpWorker(PowertoolsHandler[S]):
    """A Lambda handler for API Gateway REST proxy events: call it with the event and the context."""

    def __init__(
        self,
        resolver: APIGatewayRestResolver,
        build: Callable[[], S],
        *,
        service: str | None = None,
        guard: Guard | None = None,
    ) -> None:
        self._resolver = resolver
        self._guard = guard
        super().__init__(build, service=service, correlation_path=correlation_paths.API_GATEWAY_REST)

    def service(self) -> S:
        """The service of this process, built on first use."""
        return self.app()

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if self._guard is not None:
            refused = self._guard(event)
            if refused is not None:
                return refused
        self._resolver.append_context(**{SERVICE_KEY: self.app()})  # type: ignore[no-untyped-call]
        return self._resolver.resolve(event, context)


def http_worker(
    resolver: APIGatewayRestResolver,
    build: Callable[[], S],
    *,
    service: str | None = None,
    guard: Guard | None = None,
) -> HttpWorker[S]:
    """Build the Lambda handler of an HTTP worker from its routes and its wiring."""
    return HttpWorker(resolver, build, service=service, guard=guard)


def service_of(resolver: APIGatewayRestResolver, service_type: type[S]) -> S:
    """The service the running handler put in the resolver's context (inside a route)."""
    service = resolver.context.get(SERVICE_KEY)
    if not isinstance(service, service_type):
        msg = f"no {service_type.__name__} in the request context: call the route through its HttpWorker"
        raise TypeError(msg)
    return service
