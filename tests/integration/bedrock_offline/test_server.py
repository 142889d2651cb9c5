"""The offline Bedrock server through unmodified boto3 clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from supportflow.bedrock_offline import operations
from supportflow.bedrock_offline.faults import FAULT_HEADER
from supportflow.bedrock_offline.server import OfflineBedrock
from tests.constants import CLAUDE_3_HAIKU, DUMMY_CREDENTIALS, REGION, TITAN_EMBED

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

pytestmark = pytest.mark.integration

MODEL = CLAUDE_3_HAIKU
INTENTS = ["cancel_order", "get_refund", "track_order", "delivery_period", "complaint", "recover_password"]
TICKET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": INTENTS},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "sentiment": {"type": "string", "enum": ["very_negative", "negative", "neutral", "positive"]},
        "sentiment_score": {"type": "number", "minimum": -1, "maximum": 1},
        "urgency_cues": {"type": "array", "items": {"type": "string"}},
        "needs_escalation": {"type": "boolean"},
        "order_id": {"type": "string"},
        "customer_email": {"type": "string"},
        "refund_amount": {"type": "number"},
        "summary": {"type": "string", "maxLength": 200},
        "reply": {"type": "string", "minLength": 20},
        "priority": {"type": "string", "enum": ["high", "normal", "low"]},
    },
    "required": ["intent", "confidence", "sentiment", "summary", "reply"],
}


def tool_config(choice: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"name": "classify_ticket", "description": "Classify a ticket.", "inputSchema": {"json": TICKET_SCHEMA}}
    return {"tools": [{"toolSpec": spec}], "toolChoice": choice or {"any": {}}}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def anthropic_body(text: str, **extra: Any) -> str:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "messages": [{"role": "user", "content": text}],
    }
    return json.dumps({**body, **extra})


def make_client(url: str, **config: Any) -> BedrockRuntimeClient:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(**config) if config else None,
    )


def with_fault(client: BedrockRuntimeClient, value: str) -> BedrockRuntimeClient:
    """Add the per-request fault header through botocore's before-send hook, as a client would."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers[FAULT_HEADER] = value

    client.meta.events.register("before-send.bedrock-runtime", add_header)
    return client


@pytest.fixture
def server(offline_bedrock: OfflineBedrock) -> Iterator[OfflineBedrock]:
    """The session's offline Bedrock, with no fault rules and zeroed counts for this test (and after it)."""
    offline_bedrock.faults.clear()
    offline_bedrock.reset_counts()
    yield offline_bedrock
    offline_bedrock.faults.clear()


@pytest.fixture
def client(server: OfflineBedrock) -> BedrockRuntimeClient:
    return make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 1})


# --- operations --------------------------------------------------------------------------------------


def test_converse_text_shape(client: BedrockRuntimeClient) -> None:
    out = client.converse(modelId=MODEL, messages=user("How long does delivery to Spain take?"))  # type: ignore[arg-type]
    assert out["stopReason"] == "end_turn"
    message = out["output"]["message"]
    assert message["role"] == "assistant"
    assert "delivery" in message["content"][0]["text"].lower()
    usage = out["usage"]
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert out["metrics"]["latencyMs"] >= 1


def test_converse_reply_uses_retrieved_context(client: BedrockRuntimeClient) -> None:
    prompt = (
        "<context>Refunds are issued to the original payment method within 5 business days. "
        "Our offices are closed on Sundays. Gift cards cannot be exchanged.</context>\n"
        "When will I get my refund back on my card?"
    )
    text = client.converse(modelId=MODEL, messages=user(prompt))["output"]["message"]["content"][0]["text"]  # type: ignore[arg-type]
    assert "5 business days" in text
    assert "Sundays" not in text


def test_converse_tool_use_fills_schema(client: BedrockRuntimeClient) -> None:
    ticket = (
        "I returned the shoes two weeks ago and still have not received my refund of $49.99 for order #884213. "
        "This is the third time I ask, unacceptable! Reach me at jane.doe@example.com"
    )
    out = client.converse(modelId=MODEL, messages=user(ticket), toolConfig=tool_config())  # type: ignore[arg-type]
    assert out["stopReason"] == "tool_use"
    block = out["output"]["message"]["content"][0]["toolUse"]
    assert block["name"] == "classify_ticket" and block["toolUseId"]
    data: dict[str, Any] = dict(block["input"])
    assert set(TICKET_SCHEMA["required"]) <= set(data)
    assert data["intent"] == "get_refund"
    assert 0 <= data["confidence"] <= 1
    assert data["sentiment"] in ("negative", "very_negative")
    assert -1 <= data["sentiment_score"] < 0
    assert "third time" in data["urgency_cues"]
    assert data["needs_escalation"] is True
    assert data["order_id"] == "884213"
    assert data["customer_email"] == "jane.doe@example.com"
    assert data["refund_amount"] == pytest.approx(49.99)
    assert len(data["summary"]) <= 200 and "refund" in data["summary"]
    assert len(data["reply"]) >= 20 and "884213" in data["reply"]
    assert data["priority"] == "high"


def test_tool_result_ends_the_loop(client: BedrockRuntimeClient) -> None:
    first = client.converse(modelId=MODEL, messages=user("Where is my order 5512345?"), toolConfig=tool_config())  # type: ignore[arg-type]
    call = first["output"]["message"]["content"][0]["toolUse"]
    messages: Any = [
        *user("Where is my order 5512345?"),
        {"role": "assistant", "content": [{"toolUse": call}]},
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": call["toolUseId"], "content": [{"json": {"status": "shipped"}}]}}],
        },
    ]
    auto = tool_config({"auto": {}})
    out = client.converse(modelId=MODEL, messages=messages, toolConfig=auto)  # type: ignore[arg-type]
    assert out["stopReason"] == "end_turn"
    assert "shipped" in out["output"]["message"]["content"][0]["text"]


def test_labels_follow_the_input(client: BedrockRuntimeClient) -> None:
    def intent(text: str) -> str:
        out = client.converse(modelId=MODEL, messages=user(text), toolConfig=tool_config())  # type: ignore[arg-type]
        return str(out["output"]["message"]["content"][0]["toolUse"]["input"]["intent"])

    assert intent("I want my money back for the broken blender") == "get_refund"
    assert intent("When will my parcel be delivered? It has not arrived yet") == "delivery_period"
    assert intent("I forgot my password and cannot log in") == "recover_password"
    assert intent("Please cancel the order I placed yesterday") == "cancel_order"


def test_sentiment_follows_the_input(client: BedrockRuntimeClient) -> None:
    def sentiment(text: str) -> tuple[str, float]:
        out = client.converse(modelId=MODEL, messages=user(text), toolConfig=tool_config())  # type: ignore[arg-type]
        data: Any = out["output"]["message"]["content"][0]["toolUse"]["input"]
        return str(data["sentiment"]), float(data["sentiment_score"])

    angry = sentiment("This is the third time I ask. Unacceptable, you are useless!")
    neutral = sentiment("How do I change the shipping address on my account?")
    happy = sentiment("Thanks so much, the replacement arrived and works perfectly!")
    assert angry[0] == "very_negative"
    assert neutral[0] == "neutral"
    assert happy[0] == "positive"
    assert angry[1] < neutral[1] < happy[1]


def test_deterministic(client: BedrockRuntimeClient) -> None:
    def call() -> Any:
        out = client.converse(modelId=MODEL, messages=user("Cancel order 7781234 please"), toolConfig=tool_config())  # type: ignore[arg-type]
        return out["output"], out["usage"], out["stopReason"]

    assert call() == call()


def test_converse_stream_text_order(client: BedrockRuntimeClient) -> None:
    text = "How long does delivery to Spain take? I ordered on Monday."
    expected = client.converse(modelId=MODEL, messages=user(text))["output"]["message"]["content"][0]["text"]  # type: ignore[arg-type]
    events = list(client.converse_stream(modelId=MODEL, messages=user(text))["stream"])  # type: ignore[arg-type]
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert set(kinds[1:-3]) == {"contentBlockDelta"} and len(kinds) > 6
    streamed = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert streamed == expected
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_converse_stream_tool_use(client: BedrockRuntimeClient) -> None:
    stream = client.converse_stream(modelId=MODEL, messages=user("refund please"), toolConfig=tool_config())["stream"]  # type: ignore[arg-type]
    events = list(stream)
    kinds = [next(iter(e)) for e in events]
    assert kinds[:2] == ["messageStart", "contentBlockStart"]
    assert events[1]["contentBlockStart"]["start"]["toolUse"]["name"] == "classify_ticket"
    raw = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e)
    assert json.loads(raw)["intent"] in INTENTS
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_invoke_model_anthropic(client: BedrockRuntimeClient) -> None:
    out = client.invoke_model(modelId=MODEL, body=anthropic_body("Thanks so much, my package arrived!"))
    assert out["contentType"] == "application/json"
    data = json.loads(out["body"].read())
    assert data["type"] == "message" and data["role"] == "assistant"
    assert data["content"][0]["type"] == "text" and data["content"][0]["text"]
    assert data["stop_reason"] == "end_turn"
    assert data["usage"]["input_tokens"] > 0 and data["usage"]["output_tokens"] > 0


def test_invoke_model_anthropic_tools(client: BedrockRuntimeClient) -> None:
    tools = [{"name": "classify_ticket", "description": "Classify", "input_schema": TICKET_SCHEMA}]
    body = anthropic_body(
        "I returned the item, please give me my money back for order 551234", tools=tools, tool_choice={"type": "any"}
    )
    data = json.loads(client.invoke_model(modelId=MODEL, body=body)["body"].read())
    assert data["stop_reason"] == "tool_use"
    block = data["content"][0]
    assert block["type"] == "tool_use" and block["name"] == "classify_ticket"
    assert block["input"]["intent"] == "get_refund" and block["input"]["order_id"] == "551234"


def test_invoke_with_response_stream_chunks(client: BedrockRuntimeClient) -> None:
    out = client.invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body("Where is my order?"))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in out["body"]]
    kinds = [c["type"] for c in chunks]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert "order" in text.lower()
    assert chunks[-2]["delta"]["stop_reason"] == "end_turn"
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == chunks[-2]["usage"]["output_tokens"]


def test_count_tokens_matches_usage(client: BedrockRuntimeClient) -> None:
    text = "Please help me, my parcel is late and I need it for a birthday on Saturday."
    usage = client.converse(modelId=MODEL, messages=user(text))["usage"]  # type: ignore[arg-type]
    counted = client.count_tokens(modelId=MODEL, input={"converse": {"messages": user(text)}})  # type: ignore[typeddict-item]
    assert counted["inputTokens"] == usage["inputTokens"]
    longer = client.count_tokens(modelId=MODEL, input={"converse": {"messages": user(text * 3)}})  # type: ignore[typeddict-item]
    assert longer["inputTokens"] > counted["inputTokens"]
    via_invoke = client.count_tokens(modelId=MODEL, input={"invokeModel": {"body": anthropic_body(text).encode()}})
    invoked = json.loads(client.invoke_model(modelId=MODEL, body=anthropic_body(text))["body"].read())
    assert via_invoke["inputTokens"] == invoked["usage"]["input_tokens"]


def test_model_id_url_encoded_and_counted(client: BedrockRuntimeClient, server: OfflineBedrock) -> None:
    arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    client.converse(modelId=arn, messages=user("hi, where is my invoice?"))  # type: ignore[arg-type]
    client.converse(modelId="us." + MODEL, messages=user("hi"))  # type: ignore[arg-type]
    assert server.request_count("Converse", arn) == 1
    assert server.request_count(model_id="us." + MODEL) == 1
    assert server.request_count() == 2


# --- validation and faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "messages", "max_tokens", "fragment"),
    [
        (MODEL, [], None, "must start with a user message"),
        (MODEL, [{"role": "user", "content": []}], None, "is empty"),
        ("not-a-model", user("hi"), None, "model identifier is invalid"),
        (MODEL, user("hi"), 100_000, "exceeds the model limit of 4096"),
    ],
)
def test_validation_errors(
    client: BedrockRuntimeClient, model: str, messages: Any, max_tokens: int | None, fragment: str
) -> None:
    kwargs: dict[str, Any] = {"modelId": model, "messages": messages}
    if max_tokens:
        kwargs["inferenceConfig"] = {"maxTokens": max_tokens}
    with pytest.raises(client.exceptions.ValidationException) as err:
        client.converse(**kwargs)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fragment in err.value.response["Error"]["Message"]


def test_invoke_malformed_body(client: BedrockRuntimeClient) -> None:
    with pytest.raises(client.exceptions.ValidationException, match="anthropic_version"):
        client.invoke_model(modelId=MODEL, body=json.dumps({"messages": []}))


@pytest.mark.parametrize(
    ("fault", "status", "exception"),
    [
        ("throttle", 429, "ThrottlingException"),
        ("unavailable", 503, "ServiceUnavailableException"),
        ("model-timeout", 408, "ModelTimeoutException"),
    ],
)
def test_header_faults_raise_modelled_exceptions(
    server: OfflineBedrock, fault: str, status: int, exception: str
) -> None:
    client = with_fault(make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 1}), fault)
    with pytest.raises(getattr(client.exceptions, exception)) as err:
        client.converse(modelId=MODEL, messages=user("hello"))  # type: ignore[arg-type]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err.value.response["Error"]["Code"] == exception
    assert err.value.response["Error"]["Message"]


def test_retries_are_observed_server_side(server: OfflineBedrock) -> None:
    server.reset_counts()
    client = with_fault(make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 3}), "throttle")
    with pytest.raises(ClientError) as err:
        client.converse(modelId=MODEL, messages=user("hello"))  # type: ignore[arg-type]
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert server.request_count("Converse", MODEL) == 3


def test_rule_fails_first_n_calls_then_recovers(server: OfflineBedrock) -> None:
    server.reset_counts()
    server.faults.clear()
    server.faults.add({"fault": "throttle", "model": "anthropic.*", "operation": "Converse", "first": 2})
    client = make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 3})
    out = client.converse(modelId=MODEL, messages=user("where is my order?"))  # type: ignore[arg-type]
    assert out["ResponseMetadata"]["RetryAttempts"] == 2
    assert server.request_count("Converse") == 3
    # Other models are not targeted by the rule.
    other = make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 1})
    other.converse(modelId="amazon.nova-lite-v1:0", messages=user("hi"))  # type: ignore[arg-type]
    server.faults.clear()


def test_rules_file_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "faults.json"
    rules.write_text(json.dumps({"rules": [{"fault": "unavailable", "first": 1}]}))
    monkeypatch.setenv("SUPPORTFLOW_BEDROCK_FAULTS", str(rules))
    srv = OfflineBedrock()
    client = make_client(srv.start(), retries={"mode": "standard", "total_max_attempts": 1})
    try:
        with pytest.raises(client.exceptions.ServiceUnavailableException):
            client.converse(modelId=MODEL, messages=user("hi"))  # type: ignore[arg-type]
        client.converse(modelId=MODEL, messages=user("hi"))  # type: ignore[arg-type]
        assert srv.request_count() == 2
    finally:
        srv.stop()


def test_mid_stream_throttle_raises_event_stream_error(server: OfflineBedrock) -> None:
    client = with_fault(
        make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 1}), "stream-throttle@2"
    )
    response = client.converse_stream(modelId=MODEL, messages=user("How long does delivery to Spain take?"))  # type: ignore[arg-type]
    seen: list[str] = []
    with pytest.raises(EventStreamError) as err:
        for event in response["stream"]:
            seen.append(next(iter(event)))
    assert seen == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    assert err.value.response["Error"]["Code"] == "throttlingException"


def test_mid_stream_throttle_on_invoke_stream(server: OfflineBedrock) -> None:
    client = with_fault(
        make_client(server.start(), retries={"mode": "standard", "total_max_attempts": 1}), "stream-throttle@1"
    )
    out = client.invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body("Where is my order?"))
    with pytest.raises(EventStreamError, match="throttlingException"):
        list(out["body"])


class RecordedSleeps:
    """Stands in for the server module's ``time``: each sleep is recorded instead of waited, the rest is ``time``."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Record the delay the server asked for."""
        self.slept.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_latency_fault_delays_the_answer_by_the_asked_amount(
    server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the server's sleeps recorded rather than waited (no wall-clock in tests)
    sleeps = RecordedSleeps()
    monkeypatch.setattr(operations, "time", sleeps)
    messages: Any = {"converse": {"messages": user("hi")}}
    # When a call asks for no fault, then one asks for 300 ms of latency
    plain = make_client(server.start()).count_tokens(modelId=MODEL, input=messages)
    assert sleeps.slept == []
    slowed = with_fault(make_client(server.start()), "latency=300")
    delayed = slowed.count_tokens(modelId=MODEL, input=messages)
    # Then the server held that answer back 0.3 s once, and it is still the normal answer
    assert sleeps.slept == [0.3]
    assert delayed["inputTokens"] == plain["inputTokens"] > 0


def test_concurrent_calls_agree(server: OfflineBedrock) -> None:
    url = server.start()
    texts = ["refund please for order 1234567", "where is my parcel?", "I forgot my password"] * 2

    def call(text: str) -> Any:
        client = make_client(url, retries={"mode": "standard", "total_max_attempts": 1})
        out = client.converse(modelId=MODEL, messages=user(text), toolConfig=tool_config())  # type: ignore[arg-type]
        return out["output"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(call, texts))
    assert results[:3] == results[3:]
    assert len({json.dumps(r, sort_keys=True) for r in results}) == 3


def test_endpoint_from_environment(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> None:
    server.reset_counts()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.start())
    client = boto3.client("bedrock-runtime", region_name=REGION)
    client.converse(modelId=MODEL, messages=user("hello, where is my invoice?"))  # type: ignore[arg-type]
    assert server.request_count("Converse") == 1


def test_titan_embeddings_are_semantic(client: BedrockRuntimeClient) -> None:
    def embed(text: str) -> list[float]:
        out = client.invoke_model(modelId=TITAN_EMBED, body=json.dumps({"inputText": text}))
        data = json.loads(out["body"].read())
        assert data["inputTextTokenCount"] > 0
        return list(data["embedding"])

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    refund = embed("How do I get my money back?")
    assert cosine(refund, embed("I want a refund")) > cosine(refund, embed("Change my delivery address"))
