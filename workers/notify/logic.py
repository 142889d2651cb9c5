"""The notifications worker's rules: route an event to its audiences' topics, publish, say so on the bus."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Logger

from schemas.bus import BusEvent
from schemas.envelope import Event, derived_event_id
from schemas.events import Audience, NotificationSent
from workers.notify.routes import Route, RoutingTable
from workers.notify.topics import Notification, Notifier
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)


def notification_event_id(about_event_id: str, audience: Audience) -> str:
    """The id of the NotificationSent for one audience about one event: the same on every redelivery."""
    return derived_event_id(f"{about_event_id}/{audience}", NotificationSent.detail_type)


def message_attributes(event: Event, audience: Audience) -> dict[str, str]:
    """What subscriptions filter on; the event id lets any subscriber drop a repeated publish."""
    attributes = {
        "event_type": event.detail_type,
        "event_id": event.event_id,
        "tenant": event.tenant_id,
        "audience": audience,
    }
    priority = getattr(event, "priority", None)
    if isinstance(priority, str):
        attributes["priority"] = priority
    return attributes


class NotifyService:
    """Sends each routed event to one topic per audience and emits a NotificationSent for each."""

    def __init__(
        self,
        notifier: Notifier,
        publisher: EventPublisher,
        routes: RoutingTable,
        topics: Mapping[Audience, str],
    ) -> None:
        self._notifier = notifier
        self._publisher = publisher
        self._routes = routes
        self._topics = dict(topics)

    @property
    def consumes(self) -> tuple[type[Event], ...]:
        """The event types the routing file names."""
        return self._routes.detail_types

    def process(self, bus_event: BusEvent) -> list[NotificationSent]:
        """Notify every audience the event routes to; raise (the record fails) if a publish fails."""
        bus_event.expect(*self.consumes)
        event = bus_event.parse_detail(self._routes.event_type(bus_event.detail_type))
        sent = [self._send(event, route) for route in self._routes.routes_for(event)]
        if sent:
            self._publisher.publish(sent)
        return sent

    def _send(self, event: Event, route: Route) -> NotificationSent:
        topic_arn = self._topics[route.audience]
        message_id = self._notifier.send(
            Notification(
                topic_arn=topic_arn,
                subject=route.subject,
                message=route.message(event),
                attributes=message_attributes(event, route.audience),
            )
        )
        logger.info(
            "notification sent",
            extra={"route": route.name, "audience": route.audience, "about_event_id": event.event_id},
        )
        return event.follow_up(
            NotificationSent,
            event_id=notification_event_id(event.event_id, route.audience),
            audience=route.audience,
            about_event_id=event.event_id,
            topic_arn=topic_arn,
            message_id=message_id,
        )
