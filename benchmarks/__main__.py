"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in turn (``make bench``).

``python -m benchmarks [NAME ...] [--json FILE] [--tickets N]``: a module whose ``main`` takes ``results``
fills that dict with its figures, and ``--json FILE`` writes them all; ``--tickets N`` goes to the
modules whose ``main`` takes ``tickets`` (the end-to-end pipeline).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

import benchmarks


def main() -> int:
    """Run the benchmarks named on the command line, or all of them."""
    args = sys.argv[1:]
    json_file = None
    if "--json" in args:
        at = args.index("--json")
        json_file = Path(args[at + 1])
        del args[at : at + 2]
    options: dict[str, Any] = {}
    if "--tickets" in args:
        at = args.index("--tickets")
        options["tickets"] = int(args[at + 1])
        del args[at : at + 2]
    wanted = set(args)
    results: dict[str, Any] = {}
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    for name in names:
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n== {name} ==", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        parameters = inspect.signature(module.main).parameters
        extra = {name: value for name, value in options.items() if name in parameters}
        if "results" in parameters:
            module.main(results, **extra)
        else:
            module.main(**extra)
    if json_file is not None:
        json_file.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
