"""Integration tests: the Bedrock client through real boto3 against the offline Bedrock server."""
