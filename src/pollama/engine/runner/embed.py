"""Embeddings: inputs are packed into as few `llama_decode` calls as fit, one sequence each.

The context was created with embeddings on and the model's pooling (mean when the GGUF declares
none), so llama.cpp pools per sequence and we only read one vector per input. Vectors are
returned unnormalised; the API normalises.
"""

from __future__ import annotations

import ctypes

import llama_cpp.llama_cpp as C

from pollama.engine.runner.batch import Batch
from pollama.engine.runner.model import EMBED_SEQ_MAX, Vocab
from pollama.engine.types import EmbedResult
from pollama.errors import InvalidRequest, PollamaError


def _fit(tokens: list[int], limit: int, truncate: bool) -> list[int]:
    if len(tokens) <= limit:
        return tokens
    if not truncate:
        raise InvalidRequest("input length exceeds the context length")
    return tokens[:limit]


def embed(
    ctx: C.llama_context_p,
    vocab: Vocab,
    batch: Batch,
    inputs: list[str],
    num_ctx: int,
    truncate: bool,
) -> EmbedResult:
    """Pooled embeddings of `inputs`, in order."""
    limit = min(num_ctx, batch.capacity)
    seqs = [
        _fit(vocab.tokenize(text, add_special=True) or [vocab.bos], limit, truncate)
        for text in inputs
    ]
    n_embd = C.llama_model_n_embd(C.llama_get_model(ctx))
    if C.llama_pooling_type(ctx) == C.LLAMA_POOLING_TYPE_RANK:
        n_embd = max(1, C.llama_model_n_cls_out(C.llama_get_model(ctx)))
    mem = C.llama_get_memory(ctx)
    vectors: list[list[float]] = []
    start = 0
    while start < len(seqs):
        group = [seqs[start]]
        used = len(seqs[start])
        while (
            start + len(group) < len(seqs)
            and len(group) < EMBED_SEQ_MAX
            and used + len(seqs[start + len(group)]) <= batch.capacity
        ):
            used += len(seqs[start + len(group)])
            group.append(seqs[start + len(group)])
        vectors.extend(_embed_group(ctx, mem, batch, group, n_embd))
        start += len(group)
    return EmbedResult(embeddings=vectors, prompt_eval_count=sum(len(s) for s in seqs))


def _embed_group(
    ctx: C.llama_context_p, mem: C.llama_memory_t, batch: Batch, group: list[list[int]], n_embd: int
) -> list[list[float]]:
    C.llama_memory_clear(mem, True)
    batch.clear()
    for seq_id, tokens in enumerate(group):
        batch.add(tokens, 0, seq_id, "all")  # pooling reads every token's output
    status = batch.decode(ctx)
    if status != 0:
        raise PollamaError(f"llama_decode failed with status {status}")
    out = []
    for seq_id in range(len(group)):
        ptr = C.llama_get_embeddings_seq(ctx, seq_id)
        if not ptr:
            raise PollamaError("the model returned no pooled embedding")
        out.append(list((ctypes.c_float * n_embd).from_address(ctypes.addressof(ptr.contents))))
    return out
