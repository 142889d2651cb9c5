"""Unit tests of the Bedrock client, against a fake of its runtime port."""
