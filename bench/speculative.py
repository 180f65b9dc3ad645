"""Speculative decoding on and off, through `/api/chat`, in one run.

    .venv/bin/python bench/speculative.py [--model PATH] [--draft PATH] [--threads 2] [--rounds 3]

Drafts come from prompt lookup, or with `--draft` from that GGUF as the model's Modelfile
`DRAFT` (it must share the model's vocabulary: the gemma starter for the qwen one is
refused, and the refusal is printed).

Two workloads on the qwen starter, greedy, rounds alternated between `draft_num_predict` at
its default and 0, each request's conversation opening with its own line so no prompt is
served from the cache:
- a code edit whose answer copies most of the prompt (goal: >= 1.5x faster with drafts);
- a chat turn of free prose (goal: >= 0.95x, i.e. drafting never costs more than 5 %).

Prints the median wall time of each side, the ratio, and the drafts the runner accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import MODEL, server

from pollama.errors import InvalidRequest
from pollama.starters import STARTERS, gguf_path

SOURCE = """\
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Item:
    name: str
    price: float
    quantity: int

    def total(self) -> float:
        return self.price * self.quantity


def load_items(path: Path) -> list[Item]:
    data = json.loads(path.read_text())
    return [Item(d["name"], float(d["price"]), int(d["quantity"])) for d in data]


def cheapest(items: list[Item]) -> Item:
    return min(items, key=lambda item: item.price)


def invoice(items: list[Item]) -> str:
    lines = []
    for item in items:
        lines.append(f"{item.name:20} {item.quantity:4} x {item.price:8.2f} = {item.total():9.2f}")
    lines.append(f"{'total':20} {sum(item.total() for item in items):27.2f}")
    return "\\n".join(lines)


def main() -> None:
    items = load_items(Path("items.json"))
    print(invoice(items))
    print("cheapest:", cheapest(items).name)


if __name__ == "__main__":
    main()
"""

WORKLOADS = {
    "code edit": (
        "Rename the class `Item` to `LineItem` everywhere in this file. Reply with the whole "
        f"updated file in one code block and nothing else.\n\n```python\n{SOURCE}```",
        700,
    ),
    "free prose": (
        "Write a short story about a lighthouse keeper who finds a message in a bottle.",
        200,
    ),
}


def chat(
    client: httpx.Client, prompt: str, tokens: int, draft: int | None, n: int, threads: int
) -> float:
    """Wall time of one streamed chat request."""
    options = {"temperature": 0, "num_predict": tokens, "num_ctx": 4096, "num_thread": threads}
    if draft is not None:
        options["draft_num_predict"] = draft
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": f"Session {n}. You are a helpful assistant."},
            {"role": "user", "content": prompt},
        ],
        "options": options,
    }
    start = time.perf_counter()
    with client.stream("POST", "/api/chat", json=body) as response:
        for line in response.iter_lines():
            if line and json.loads(line).get("done"):
                break
    return time.perf_counter() - start


def main() -> None:
    """Alternate the two sides for each workload and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = gguf_path(next(s for s in STARTERS if s.name == "qwen2.5-coder:0.5b"))
    parser.add_argument("--model", type=Path, default=default)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--draft", type=Path, default=None, help="a draft model GGUF")
    args = parser.parse_args()
    lines = f"DRAFT {args.draft}\n" if args.draft else ""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(server(args.model, lines))
        except InvalidRequest as exc:
            sys.exit(f"draft model refused: {exc}")
        client = stack.enter_context(httpx.Client(base_url=url, timeout=None))
        run(client, args.threads, args.rounds)


def drafts(client: httpx.Client) -> tuple[float, float]:
    """The server's draft tokens sent and accepted so far, from `/metrics`."""
    counts = {"sent": 0.0, "accepted": 0.0}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("pollama_speculative_draft_tokens_total"):
            counts["sent"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("pollama_speculative_draft_accepted_tokens_total"):
            counts["accepted"] += float(line.rsplit(" ", 1)[1])
    return counts["sent"], counts["accepted"]


def run(client: httpx.Client, threads: int, rounds: int) -> None:
    """Both workloads, the sides alternated; a line of medians and ratio for each."""
    chat(client, "Hi", 2, None, -1, threads)  # loads the model
    n = 0
    for name, (prompt, tokens) in WORKLOADS.items():
        times: dict[str, list[float]] = {"on": [], "off": []}
        before = drafts(client)
        for r in range(rounds):
            sides = [("on", None), ("off", 0)][:: 1 if r % 2 == 0 else -1]
            for side, draft in sides:
                n += 1
                times[side].append(chat(client, prompt, tokens, draft, n, threads))
        sent, accepted = (a - b for a, b in zip(drafts(client), before, strict=True))
        on, off = statistics.median(times["on"]), statistics.median(times["off"])
        print(
            f"{name:10}  drafts on {on:6.2f} s   off {off:6.2f} s   "
            f"speed-up {off / on:.2f}x   runs on {[round(t, 2) for t in times['on']]} "
            f"off {[round(t, 2) for t in times['off']]}   "
            f"drafted {sent:.0f}, accepted {accepted:.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
