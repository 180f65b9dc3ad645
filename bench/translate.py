"""`pollama translate` throughput: cues per minute at 1 and 4 batches in flight, the share of
batches that needed a retry, and the share of the model's raw decode speed spent on output
text, against bare `llama_cpp.Llama` decoding on the same GGUF in the same run.

    .venv/bin/python bench/translate.py [--model PATH] [--threads 2] [--parallel 1,4]
                                        [--cues 110]

Starts `pollama serve` (4 slots) over a temporary store holding the model (the qwen starter
by default) and translates the 110-cue test SRT (or its first `--cues`) into Chinese once
per `--parallel` value.
"Output text" is the tokens of the translated cues themselves (no JSON keys, quotes or
retried answers); its rate over the whole run, wall clock, divided by bare single-stream
decode tok/s, is the share the issue asks to be at least 0.8 at 4 parallel batches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from llama_cpp import Llama

sys.path.insert(0, str(Path(__file__).parent))
from _common import MODEL, bare_decode, bare_llama, server

from pollama.starters import STARTERS, gguf_path
from pollama.translate import Settings, read_document, translate_text
from pollama.translate.units import has_words

BARE_TOKENS = 96
SRT = Path(__file__).parents[1] / "tests" / "translate" / "data" / "night_train.srt"


def text_tokens(llm: Llama, source: str, output: str) -> int:
    """Tokens of the translated text of each worded cue."""
    pairs = zip(read_document(source, "srt").cues, read_document(output, "srt").cues, strict=True)
    return sum(
        len(llm.tokenize(out.text.encode(), add_bos=False, special=False))
        for src, out in pairs
        if has_words(src.text)
    )


def first_cues(srt: str, count: int) -> str:
    """The first `count` cues of an SRT text (its blocks end with a blank line)."""
    return "".join(block + "\n\n" for block in srt.split("\n\n")[:count]).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    default = gguf_path(next(s for s in STARTERS if s.name == "qwen2.5-coder:0.5b"))
    parser.add_argument("--model", type=Path, default=default)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", default="1,4")
    parser.add_argument("--cues", type=int, default=110, help="translate the first N cues")
    args = parser.parse_args()

    llm = bare_llama(args.model, args.threads)
    source = first_cues(SRT.read_text(encoding="utf-8"), args.cues)
    cues = len(read_document(source, "srt").cues)
    rows = []
    bare = [bare_decode(llm, BARE_TOKENS)]
    with server(args.model, OLLAMA_NUM_PARALLEL="4") as url:
        translate_text(
            "1\n00:00:01,000 --> 00:00:02,000\nHello.\n",
            "srt",
            Settings(model=MODEL, parallel=1),
            base_url=url,
        )  # loads the model
        for parallel in (int(p) for p in args.parallel.split(",")):
            result = translate_text(
                source, "srt", Settings(model=MODEL, parallel=parallel), base_url=url
            )
            rows.append((parallel, result, text_tokens(llm, source, result.text)))
            bare.append(bare_decode(llm, BARE_TOKENS))
    raw = statistics.median(bare)
    print(
        f"model {args.model.name}, {args.threads} threads, {cues} cues, "
        f"bare decode {raw:.1f} tok/s (median of {len(bare)})"
    )
    for parallel, result, tokens in rows:
        s = result.summary
        share = tokens / s.seconds / raw
        print(
            f"parallel {parallel}: {cues / s.seconds * 60:6.1f} cues/min  "
            f"{s.seconds:6.1f} s  batches retried {s.batches_retried}/{s.batches} "
            f"({s.batches_retried / max(1, s.batches):.0%})  left untranslated "
            f"{len(s.untranslated)}  output text {tokens} tok = {share:.0%} of raw decode"
        )


if __name__ == "__main__":
    main()
