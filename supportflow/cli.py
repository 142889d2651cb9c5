"""Command line entry point (filled in by the local stack)."""


def main() -> None:
    """Run the supportflow command line."""
