"""The embedded emulator's raw SQS single hop: send → receive → delete, msg/s by queue depth, patch off and on."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from supportflow.local import moto_patches
from supportflow.local.clients import Clients
from supportflow.local.emulator import MotoEmulator

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DEPTHS = (0, 100, 1_000, 3_000)
MIN_SECONDS = 1.5
MIN_CYCLES = 3
MAX_CYCLES = 300


def _fill(sqs: SQSClient, url: str, depth: int) -> None:
    for start in range(0, depth, 10):
        entries = [{"Id": str(i), "MessageBody": f"backlog-{start + i}"} for i in range(min(10, depth - start))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]


def _cycle(sqs: SQSClient, url: str, batch: int) -> int:
    if batch == 1:
        sqs.send_message(QueueUrl=url, MessageBody="hop")
    else:
        entries = [{"Id": str(i), "MessageBody": "hop"} for i in range(batch)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch).get("Messages", [])
    if batch == 1:
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    elif received:
        handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
        sqs.delete_message_batch(QueueUrl=url, Entries=handles)  # type: ignore[arg-type]
    return len(received)


def _timed_cycles(sqs: SQSClient, url: str, batch: int) -> float:
    _cycle(sqs, url, batch)  # warm the connection and the code path
    moved, cycles = 0, 0
    started = time.perf_counter()
    while cycles < MAX_CYCLES and (cycles < MIN_CYCLES or time.perf_counter() - started < MIN_SECONDS):
        moved += _cycle(sqs, url, batch)
        cycles += 1
    return moved / (time.perf_counter() - started)


def hop_rate(sqs: SQSClient, depth: int = 0, batch: int = 1, patched: bool | None = None) -> float:
    """Messages per second through one thread's send → receive → delete with `depth` messages already queued.

    ``patched`` switches the in-process moto patch on or off for the timed cycles only (the backlog is
    filled with it on: same stored state, minutes less); None leaves the emulator as it is.
    """
    url = sqs.create_queue(QueueName=f"bench-hop-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    was_applied = moto_patches.is_applied()
    try:
        if patched is not None:
            moto_patches.apply()
        _fill(sqs, url, depth)
        if patched is False:
            moto_patches.remove()
        return _timed_cycles(sqs, url, batch)
    finally:
        if patched is not None and was_applied:
            moto_patches.apply()
        elif patched is not None:
            moto_patches.remove()
        sqs.delete_queue(QueueUrl=url)


def raw_hops_per_s(sqs: SQSClient, depth: int = 0, batch: int = 10) -> float:
    """The emulator's raw single-hop rate as the end-to-end benchmark divides by (batched, as the workers poll)."""
    return hop_rate(sqs, depth=depth, batch=batch)


def run(results: dict[str, Any]) -> None:
    """Measure hop rates at each depth, single and batched, with the moto patch off then on."""
    emulator = MotoEmulator.acquire()
    try:
        sqs = Clients(emulator.endpoint_url, "us-east-1").sqs
        figures: dict[str, Any] = {"moto_patch_applicable": moto_patches.applicable(), "rates": []}
        modes = (False, True) if moto_patches.applicable() else (None,)
        for patched in modes:
            for batch in (1, 10):
                for depth in DEPTHS:
                    rate = hop_rate(sqs, depth=depth, batch=batch, patched=patched)
                    figures["rates"].append({"patched": patched, "batch": batch, "depth": depth, "msg_per_s": rate})
        results["sqs_emulator"] = figures
    finally:
        MotoEmulator.release()


def main(results: dict[str, Any] | None = None) -> None:
    """Print the hop rates as a table (depth by batch size, patch off / on); fill ``results`` if given."""
    results = {} if results is None else results
    run(results)
    rates = results["sqs_emulator"]["rates"]
    table = {(r["batch"], r["depth"], r["patched"]): r["msg_per_s"] for r in rates}
    print(f"{'send->receive->delete, one thread':<40}  {'moto as is':>12}  {'patched':>12}")
    print(f"{'-' * 40}  {'-' * 12}  {'-' * 12}")
    for batch in (1, 10):
        for depth in DEPTHS:
            before = table.get((batch, depth, False), table.get((batch, depth, None)))
            after = table.get((batch, depth, True))
            label = f"{'batches of 10' if batch == 10 else 'single'}, depth {depth:,}"
            cells = [f"{v:>8.0f} msg/s" if v is not None else f"{'-':>12}" for v in (before, after)]
            print(f"{label:<40}  {cells[0]}  {cells[1]}")


if __name__ == "__main__":
    main()
