"""CloudWatch: metric alarms (stored; actions never run locally)."""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates

_ALARM_KEYS = (
    "ActionsEnabled",
    "AlarmActions",
    "AlarmDescription",
    "ComparisonOperator",
    "DatapointsToAlarm",
    "Dimensions",
    "EvaluateLowSampleCountPercentile",
    "EvaluationPeriods",
    "ExtendedStatistic",
    "InsufficientDataActions",
    "MetricName",
    "Metrics",
    "Namespace",
    "OKActions",
    "Period",
    "Statistic",
    "Threshold",
    "ThresholdMetricId",
    "TreatMissingData",
    "Unit",
)


@creates("AWS::CloudWatch::Alarm")
def create_alarm(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """CloudWatch metric alarm (stored; its actions never run locally)."""
    name = properties.get("AlarmName") or deployment.physical_name(logical_id, 255)
    kwargs: dict[str, Any] = {key: properties[key] for key in _ALARM_KEYS if properties.get(key) is not None}
    for key in ("EvaluationPeriods", "Period", "DatapointsToAlarm"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    deployment.clients.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
    arn = f"arn:{deployment.partition}:cloudwatch:{deployment.region}:{deployment.account_id}:alarm:{name}"
    return Created(ref=name, attributes={"Arn": arn}, note="alarm actions never run locally")
