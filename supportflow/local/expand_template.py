"""Write a template with its loops unrolled, for scanners that do not expand Fn::ForEach (checkov)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from supportflow.local.template import load_template


def main(argv: list[str] | None = None) -> None:
    """Write ``template`` with AWS::LanguageExtensions expanded (default parameters) to ``output`` as JSON."""
    parser = argparse.ArgumentParser(prog="python -m supportflow.local.expand_template", description=__doc__)
    parser.add_argument("template", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    expanded = load_template(args.template).source
    args.output.write_text(json.dumps(expanded, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
