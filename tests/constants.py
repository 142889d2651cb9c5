"""Values every test folder shares: model ids, dummy credentials, region, account (one copy, not three)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

# Model ids as the Bedrock client routes them (cross-region inference profiles) ...
HAIKU: Final = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_35: Final = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA_LITE: Final = "us.amazon.nova-lite-v1:0"
SONNET: Final = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
# ... and a plain foundation-model id, as the offline Bedrock's wire tests send it.
CLAUDE_3_HAIKU: Final = "anthropic.claude-3-haiku-20240307-v1:0"
TITAN_EMBED: Final = "amazon.titan-embed-text-v2:0"

REGION: Final = "us-east-1"
ACCOUNT_ID: Final = "123456789012"

# Dummy credentials: boto3 signs with them; no real account is ever reachable from the suite.
DUMMY_CREDENTIALS: Final[dict[str, str]] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# What the root conftest sets for the whole session (and what a test that needs a clean slate re-sets).
TEST_ENVIRONMENT: Final[dict[str, str]] = {
    **DUMMY_CREDENTIALS,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}

# The sample events (one per contract, plus tickets/): tests load them, never inline 60-line dicts.
EVENTS_DIR: Final = Path(__file__).resolve().parent.parent / "events"
