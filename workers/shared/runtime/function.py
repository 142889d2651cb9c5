"""The runtime of a Lambda function that is neither a queue worker nor a REST resolver: one app per handler.

A Lambda authorizer or a WebSocket function is its logic (``handle(app, event)``: the built app and the raw
event in, the answer API Gateway reads out), its wiring (``build``, settings in, adapters built) and a
handler of one line::

    lambda_handler = function_worker(build_authorizer, authorize, service="authorizer")

The HTTP runtime (``http.py``) is the same handler with a resolver as its logic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from workers.shared.runtime.once import BuiltOnce, InvocationContext

__all__ = ["FunctionWorker", "PowertoolsHandler", "function_worker"]

S = TypeVar("S")


class PowertoolsHandler(Generic[S]):
    """A Lambda handler with Powertools Logger and Tracer around ``_handle``, and its app built once."""

    def __init__(self, build: Callable[[], S], *, service: str | None, correlation_path: str | None) -> None:
        self._app = BuiltOnce(build)
        self.logger = Logger(service=service)
        self.tracer = Tracer(service=service)
        self._handler = self.logger.inject_lambda_context(correlation_id_path=correlation_path, clear_state=True)(
            self.tracer.capture_lambda_handler(self._handle)
        )

    def __call__(self, event: dict[str, Any], context: InvocationContext) -> dict[str, Any]:
        """The event in, API Gateway's answer out."""
        response: dict[str, Any] = self._handler(event, cast(LambdaContext, context))
        return response

    def app(self) -> S:
        """The app of this process, built on first use."""
        return self._app.get()

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        raise NotImplementedError


class FunctionWorker(PowertoolsHandler[S]):
    """A handler that passes its built app and each event to ``handle``."""

    def __init__(
        self,
        build: Callable[[], S],
        handle: Callable[[S, dict[str, Any]], dict[str, Any]],
        *,
        service: str | None = None,
        correlation_path: str | None = None,
    ) -> None:
        self._handle_event = handle
        super().__init__(build, service=service, correlation_path=correlation_path)

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self._handle_event(self.app(), event)


def function_worker(
    build: Callable[[], S],
    handle: Callable[[S, dict[str, Any]], dict[str, Any]],
    *,
    service: str | None = None,
    correlation_path: str | None = None,
) -> FunctionWorker[S]:
    """Build the Lambda handler of a function from its wiring and its logic for one event."""
    return FunctionWorker(build, handle, service=service, correlation_path=correlation_path)
