"""The runner's decode loop: continuous batching over slots sharing one llama.cpp context.

Every step puts each generating slot's last sampled token, then chunks of pending prompts, into
one `llama_decode` batch of at most `num_batch` tokens, samples every slot whose logits came
out, and returns the text produced. New requests and cancels are applied between steps by the
caller (`process.py`), so a cancelled slot stops within one step.
"""

from __future__ import annotations

import collections
import logging
import time
from typing import Any

import llama_cpp.llama_cpp as C

from pollama.engine.runner import chunks, protocol
from pollama.engine.runner.batch import Batch
from pollama.engine.runner.chunks import Replay
from pollama.engine.runner.draft_model import DraftModel, ModelDrafter
from pollama.engine.runner.jump_forward import JumpDrafter
from pollama.engine.runner.logprobs import LogprobReader, Pending
from pollama.engine.runner.model import Vocab
from pollama.engine.runner.replay import Step, replay_steps
from pollama.engine.runner.sampling import build_sampler
from pollama.engine.runner.slots import GeneratedReply, Job, Slot, choose_slot, fit_prompt
from pollama.engine.runner.speculate import (
    DecodeCost,
    Drafter,
    Proposal,
    Proposer,
    accept,
    plan,
)
from pollama.engine.runner.text import OutputFilter
from pollama.engine.types import CompletionRequest, RunnerOptions, SamplingOptions
from pollama.errors import PollamaError

log = logging.getLogger(__name__)

Message = dict[str, Any]
# A batch output to sample: its slot, its index, and the draft (kind, tokens) after it.
Output = tuple[Slot, int, int, list[int]]
PREDICT_CAP = 10  # like Ollama, unlimited num_predict stops at 10 x num_ctx tokens
MAX_DRAFT = 32  # the most draft tokens a step verifies per slot, whatever draft_num_predict says


def request_from_dict(data: dict[str, Any]) -> CompletionRequest:
    """Rebuild a CompletionRequest sent as JSON (tuples arrive as lists)."""
    sampling = dict(data.get("sampling") or {})
    sampling["stop"] = tuple(sampling.get("stop") or ())
    fields = {k: v for k, v in data.items() if k != "sampling"}
    fields["context"] = tuple(fields.get("context") or ())
    fields["json_keys"] = tuple(fields.get("json_keys") or ())
    if fields.get("replies") is not None:
        fields["replies"] = tuple(tuple(span) for span in fields["replies"])
    return CompletionRequest(sampling=SamplingOptions(**sampling), **fields)


class Engine:
    """Slots, the shared batch and the step function."""

    def __init__(
        self,
        model: C.llama_model_p,
        ctx: C.llama_context_p,
        vocab: Vocab,
        opts: RunnerOptions,
        draft: DraftModel | None = None,
    ) -> None:
        self.model, self.ctx, self.vocab, self.opts = model, ctx, vocab, opts
        self.draft = draft  # a Modelfile DRAFT model drafts instead of prompt lookup
        self.mem = C.llama_get_memory(ctx)
        self.can_shift = bool(C.llama_memory_can_shift(self.mem))
        self.slots = [Slot(seq_id=i) for i in range(opts.num_parallel)]
        self.waiting: collections.deque[Job] = collections.deque()
        self.batch = Batch(C.llama_n_batch(ctx))
        self.chunk_batch = Batch(chunks.CHUNK)
        self.outbox: list[Message] = []
        self.logprobs = LogprobReader(vocab)
        self.stats = {
            "decodes": 0,
            "tokens": 0,
            "max_seqs_per_decode": 0,
            "cached_tokens": 0,
            "draft_tokens": 0,
            "draft_accepted": 0,
        }
        self.cost = DecodeCost(C.llama_n_ubatch(ctx), unified=opts.num_parallel == 1)
        # Draft tokens one slot may send in a step: the batch must hold every slot's.
        self.max_draft = min(MAX_DRAFT, self.batch.capacity // len(self.slots) - 1)
        self._rotate = 0

    # -- admission -------------------------------------------------------------------------

    def submit(self, job_id: int, request: CompletionRequest) -> None:
        """Tokenize and queue a request; raises InvalidRequest if it cannot be served."""
        req = request
        tokens = list(req.context) + self.vocab.tokenize(
            req.prompt, add_special=req.add_bos and not req.context
        )
        if not tokens:
            tokens = [self.vocab.bos]
        num_ctx = min(req.num_ctx or self.opts.num_ctx, self.opts.num_ctx)
        keep = len(tokens) if req.sampling.num_keep < 0 else req.sampling.num_keep
        if req.add_bos and tokens[0] == self.vocab.bos and req.sampling.num_keep >= 0:
            keep += 1
        keep = max(0, min(keep, num_ctx - 1))
        tokens, truncated = fit_prompt(tokens, num_ctx, keep, req.truncate)
        if truncated:
            log.warning("truncating input prompt: dropped %d tokens", truncated)
        predict = req.sampling.num_predict
        limit = predict if predict >= 0 else PREDICT_CAP * num_ctx
        sampler = build_sampler(self.vocab.vocab, req.sampling, req.grammar, num_ctx)
        job = Job(job_id, req, tokens, keep, limit, truncated, num_ctx, sampler)
        chat = req.replies is not None and not req.context and not truncated
        if chat and req.sampling.seed >= 0 and self.draft is None:
            job.replies = self.vocab.token_spans(tokens, req.prompt, req.replies)
        job.out = OutputFilter(req.sampling.stop)
        job.logprobs = Pending() if req.logprobs else None
        self.waiting.append(job)

    def cancel(self, job_id: int) -> None:
        """Drop a request, queued or running; its slot is free for the next step."""
        for job in self.waiting:
            if job.id == job_id:
                self.waiting.remove(job)
                if job.sampler is not None:
                    job.sampler.free()
                return
        for slot in self.slots:
            if slot.job is not None and slot.job.id == job_id:
                slot.release()
                return

    def _admit(self) -> None:
        free = [s for s in self.slots if s.job is None]
        while self.waiting and free:
            job = self.waiting.popleft()
            slot, n_past = choose_slot(free, job.prompt)
            free.remove(slot)
            self._start(slot, job, n_past)

    def _start(self, slot: Slot, job: Job, n_past: int) -> None:
        # llama.cpp needs at least one token evaluated to produce logits.
        n_past = min(n_past, len(job.prompt) - 1)
        slot.seeded = job.request.sampling.seed >= 0
        slot.recompute, slot.unsettled, slot.end_of_turn = [], False, []
        reply, slot.reply = slot.reply, None
        if slot.seeded:
            # A seed asks for the same text every time: only its own segments are reused.
            n_past = self._reuse_segments(slot, job, n_past, reply)
        if not C.llama_memory_seq_rm(self.mem, slot.seq_id, n_past, -1):
            C.llama_memory_seq_rm(self.mem, slot.seq_id, -1, -1)
            n_past, job.segment, job.steps = 0, 0, []
        slot.keep_canonical(n_past)
        self.stats["cached_tokens"] += n_past
        slot.cache = job.prompt[:n_past]
        slot.pending = job.prompt[n_past:]
        slot.job = job
        job.t_start = time.perf_counter_ns()
        job.sampler.accept_prompt(job.prompt)
        if job.request.sampling.draft_num_predict > 0:
            job.drafter = self._drafter(slot, job)

    def _drafter(self, slot: Slot, job: Job) -> Proposer:
        """The draft model's drafter for this slot, if there is one; else prompt lookup."""
        if self.draft is not None:
            return ModelDrafter(self.draft, slot.seq_id, job.prompt, self.cost, slot.seeded)
        return self._lookup_drafter(job, job.prompt)

    def _lookup_drafter(self, job: Job, text: list[int]) -> Proposer:
        """Prompt lookup over `text`, with the forced text of a JSON answer drafted too."""
        lookup = Drafter(text)
        keys = job.request.json_keys
        return JumpDrafter(lookup, keys, self.vocab) if keys else lookup

    def _propose(self, drafter: Proposer, job: Job, position: int, left: int) -> Proposal:
        """What `drafter` proposes at `position`: as many tokens as the request drafts, the
        step holds, the context has room for and the `left` tokens to generate need."""
        sampling = job.request.sampling
        limit = min(sampling.draft_num_predict, self.max_draft, job.num_ctx - position - 1, left)
        kind, tokens = drafter.propose(limit)
        return Proposal(kind, tokens, drafter.acceptance(kind))

    # -- seeded prompts: the segments to reuse ----------------------------------------------

    def _plan(self, job: Job) -> list[chunks.Segment]:
        """A seeded prompt's segments: a chat's by its replies, any other's by its turns."""
        if job.replies is None:
            return chunks.plan_turns(job.prompt, self.vocab.is_eog)
        return chunks.plan_chat(len(job.prompt), job.replies, Replay(self._draft_settings(job)))

    def _draft_settings(self, job: Job) -> tuple[object, ...]:
        """What a seeded reply's drafts depend on besides its text."""
        req = job.request
        return req.sampling.draft_num_predict, req.json_keys, job.num_ctx, job.limit

    def _reuse_segments(
        self, slot: Slot, job: Job, n_past: int, reply: GeneratedReply | None
    ) -> int:
        """How much of its `n_past` shared tokens a seeded job reuses: the segments it plans
        as the slot holds them, then the slot's last `reply` as far as its generation decoded
        the steps the job would."""
        job.segments = self._plan(job)
        n = chunks.shared(slot.segments, job.segments, n_past)
        del slot.segments[n:]
        job.segment = n
        start = slot.canonical
        planned = job.segments[n][1] if n < len(job.segments) else None  # what comes next
        if reply is None or (reply.start, reply.shape) != (start, planned):
            return start
        steps = self._replay(slot, job, start)
        own = min(n_past, reply.own_until)
        done = next((i for i, step in enumerate(steps) if step.kept > own), len(steps))
        if done == len(steps):
            self._completed(slot, job)
            return slot.canonical
        job.steps = steps[done:]
        return job.steps[0].position

    def _replay(self, slot: Slot, job: Job, start: int) -> list[Step]:
        """The steps of the reply segment that begins at `start` (`replay.py`)."""
        end = job.segments[job.segment][0]
        drafter = None
        if job.request.sampling.draft_num_predict > 0:
            drafter = self._lookup_drafter(job, job.prompt[:start])

        def draft_for(drafter: Proposer, position: int) -> tuple[int, list[int]]:
            # The token at `position` was the reply's (position - start + 1)-th.
            left = job.limit - (position - start + 1) - 1
            proposal = self._propose(drafter, job, position, left)
            proposals: list[Proposal | None] = [None] * len(self.slots)
            proposals[slot.seq_id] = proposal
            n = plan(proposals, self.cost, fixed=True)[slot.seq_id] if proposal.tokens else 0
            if proposal.tokens and not n:
                drafter.skipped(proposal.kind, proposal.tokens[0])
            return proposal.kind, proposal.tokens[:n]

        return replay_steps(job.prompt, start, end, drafter, draft_for)

    def _completed(self, slot: Slot, job: Job) -> None:
        """The job's current segment is in the cache: the slot keeps it when it continues the
        slot's segments (a chunk of a prompt not a chat's, only when complete)."""
        start = job.segments[job.segment - 1][0] if job.segment else 0
        end, shape = job.segments[job.segment]
        job.segment += 1
        chunk = job.prompt[start:end]
        if slot.canonical == start and (
            job.replies is not None or chunks.is_complete(chunk, self.vocab.is_eog)
        ):
            slot.segments.append((end, shape))

    # -- the step ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a step has work to do (idle slots' seeded replies to recompute, too)."""
        return (
            bool(self.waiting and any(s.job is None for s in self.slots))
            or any(s.job is not None for s in self.slots)
            or any(self._to_recompute(s) for s in self.slots)
        )

    def step(self) -> None:
        """Admit waiting requests, decode one batch, sample, queue output in `outbox`;
        then the next decode of each seeded prompt (a chunk, or a step of a reply); with
        nothing else to do, one chunk of an idle slot's seeded reply (not a chat's)."""
        self._admit()
        decoded = self._decode_step()
        chunked = self._seeded_prompt_chunks()
        if not decoded and not chunked:
            self._recompute_one()

    def _decode_step(self) -> bool:
        """The shared batch: every generating slot's next token (and draft), prompt chunks."""
        batch = self.batch
        batch.clear()
        outputs: list[Output] = []
        generating = [
            s for s in self.slots if s.job and s.job.next_token is not None and self._make_room(s)
        ]
        drafts = self._plan_drafts(generating)
        counts = [0] * len(self.slots)
        for slot in generating:
            job = slot.job
            kind, draft = drafts.get(slot, (0, []))
            if draft:
                tokens = [job.next_token, *draft]
                index = batch.add(tokens, len(slot.cache), slot.seq_id, "all") - len(draft)
                slot.cache.extend(tokens)
            else:
                index = batch.add_one(job.next_token, len(slot.cache), slot.seq_id)
                slot.cache.append(job.next_token)
            outputs.append((slot, index, kind, draft))
            counts[slot.seq_id] = 1 + len(draft)
            job.next_token = None
        decoding = batch.n
        seqs = len(outputs) + self._add_prompts(outputs)
        if batch.n == 0:
            return False
        for slot in generating:  # a reply replays as generated only from decodes of its own
            if batch.n > counts[slot.seq_id]:
                slot.job.own_until = min(slot.job.own_until, len(slot.cache) - counts[slot.seq_id])
        started = time.perf_counter()
        status = batch.decode(self.ctx)
        if batch.n == decoding:  # prompts take other shapes: learn from decode steps only
            self.cost.observe(counts, time.perf_counter() - started)
        self.stats["decodes"] += 1
        self.stats["tokens"] += batch.n
        self.stats["max_seqs_per_decode"] = max(self.stats["max_seqs_per_decode"], seqs)
        if status != 0:
            self._fail_batch(status)
            return True
        for slot, index, kind, draft in outputs:
            self._verify(slot, index, kind, draft)
        return True

    def _plan_drafts(self, generating: list[Slot]) -> dict[Slot, tuple[int, list[int]]]:
        """The draft (kind, tokens) each generating slot sends this step, if any pays."""
        proposals: list[Proposal | None] = [None] * len(self.slots)
        for slot in generating:
            job, drafter = slot.job, slot.job.drafter
            proposal = Proposal(0, [], 0.0)
            if drafter is not None:
                left = job.limit - job.sampled - 1
                proposal = self._propose(drafter, job, len(slot.cache), left)
            proposals[slot.seq_id] = proposal
        if not any(p is not None and p.tokens for p in proposals):
            return {}
        # A seeded request's batch shapes (and so its numbers) depend on its text alone.
        counts = plan(proposals, self.cost, fixed=any(s.seeded for s in generating))
        drafts = {}
        for slot in generating:
            proposal, n = proposals[slot.seq_id], counts[slot.seq_id]
            if n:
                drafts[slot] = (proposal.kind, proposal.tokens[:n])
            elif proposal.tokens:  # not sent, but scored against the token that comes
                slot.job.drafter.skipped(proposal.kind, proposal.tokens[0])
        return drafts

    def _verify(self, slot: Slot, index: int, kind: int, draft: list[int]) -> None:
        """Sample the slot's outputs from batch output `index` on, keeping each draft token
        the sampler draws; the rejected tail leaves the KV cache. Every token (and whatever
        `_sample` reads with it) comes from the output of the position that verified it."""
        job = slot.job
        valid = len(slot.cache) - len(draft)
        job.draft_tokens += len(draft)  # counted before a token ends the job and reports them
        accepted = accept(draft, lambda i: self._sample(slot, index + i), job.drafter)
        job.draft_accepted += accepted
        if not draft:
            return
        valid += accepted
        if valid < len(slot.cache):
            C.llama_memory_seq_rm(self.mem, slot.seq_id, valid, -1)
            del slot.cache[valid:]
        job.drafter.verified(kind, len(draft), accepted)
        self.stats["draft_tokens"] += len(draft)
        self.stats["draft_accepted"] += accepted

    def _add_prompts(self, outputs: list[Output]) -> int:
        """Fill the batch's room with prompt chunks, round-robin; returns the slots added."""
        added = 0
        n = len(self.slots)
        self._rotate = (self._rotate + 1) % n
        for k in range(n):
            slot = self.slots[(self._rotate + k) % n]
            if slot.job is None or not slot.pending or slot.seeded or self.batch.room == 0:
                continue
            take = slot.pending[: self.batch.room]
            last = len(take) == len(slot.pending)
            index = self.batch.add(take, len(slot.cache), slot.seq_id, "last" if last else "none")
            slot.cache.extend(take)
            slot.pending = slot.pending[len(take) :]
            slot.job.prompt_evaluated += len(take)
            added += 1
            if last:
                outputs.append((slot, index, 0, []))
        return added

    # -- seeded prompts, in fixed segments -------------------------------------------------

    def _seeded_prompt_chunks(self) -> bool:
        """Evaluate the next decode of every seeded prompt's segments, each alone."""
        worked = False
        for slot in self.slots:
            job = slot.job
            if job is None or not slot.pending or not slot.seeded:
                continue
            position = len(slot.cache)
            end, shape = job.segments[job.segment]
            if shape is not None and not job.steps:  # a reply begins
                job.steps = self._replay(slot, job, position)
            if job.steps:
                step = job.steps.pop(0)
                if self._decode_chunk(slot, step.tokens, "none") is None:
                    return True
                C.llama_memory_seq_rm(self.mem, slot.seq_id, step.kept, -1)
                del slot.cache[step.kept :]
                index = None
            else:
                output = "last" if end == len(job.prompt) else "none"
                index = self._decode_chunk(slot, job.prompt[position:end], output)
                if index is None:
                    return True
            slot.pending = job.prompt[len(slot.cache) :]
            job.prompt_evaluated += len(slot.cache) - position
            worked = True
            if len(slot.cache) == end:
                self._completed(slot, job)
            if index is not None and not slot.pending:
                self._verify(slot, index, 0, [])
        return worked

    def _decode_chunk(self, slot: Slot, tokens: list[int], output: str) -> int | None:
        """Decode `tokens` after the slot's cache, alone; their output index, None if failed."""
        batch = self.chunk_batch
        batch.clear()
        index = batch.add(tokens, len(slot.cache), slot.seq_id, output)
        status = batch.decode(self.ctx)
        self.stats["decodes"] += 1
        self.stats["tokens"] += batch.n
        if status != 0:
            self._fail_batch(status)
            return None
        slot.cache.extend(tokens)
        return index

    def _to_recompute(self, slot: Slot) -> bool:
        """Whether an idle slot holds a seeded reply not yet in fixed chunks."""
        return slot.job is None and (slot.unsettled or bool(slot.recompute))

    def _recompute_one(self) -> None:
        """Re-evaluate one fixed chunk of an idle slot's seeded reply, so the next turn
        finds it canonical; a request that takes the slot first just finds less cached."""
        slot = next((s for s in self.slots if self._to_recompute(s)), None)
        if slot is None:
            return
        if slot.unsettled:  # the tail after the last complete chunk comes back too
            slot.unsettled = False
            slot.recompute = slot.cache[slot.canonical :] + slot.end_of_turn
            C.llama_memory_seq_rm(self.mem, slot.seq_id, slot.canonical, -1)
            del slot.cache[slot.canonical :]
        n = chunks.chunk_length(slot.recompute, self.vocab.is_eog)
        take, slot.recompute = slot.recompute[:n], slot.recompute[n:]
        keep = slot.canonical == len(slot.cache) and chunks.is_complete(take, self.vocab.is_eog)
        if take and self._decode_chunk(slot, take, "none") is not None and keep:
            slot.segments.append((len(slot.cache), None))

    def _make_room(self, slot: Slot) -> bool:
        """Shift the slot's context when it is full, as Ollama does; False ends the job."""
        job = slot.job
        num_ctx = job.num_ctx
        if len(slot.cache) < num_ctx:
            return True
        keep = job.num_keep
        discard = (num_ctx - keep) // 2
        if not self.can_shift or not job.request.shift or discard <= 0:
            self._finish(slot, "length")
            return False
        log.debug("context limit hit - shifting: keep %d, discard %d", keep, discard)
        C.llama_memory_seq_rm(self.mem, slot.seq_id, keep, keep + discard)
        C.llama_memory_seq_add(self.mem, slot.seq_id, keep + discard, -1, -discard)
        slot.cache = slot.cache[:keep] + slot.cache[keep + discard :]
        slot.keep_canonical(keep)
        job.own_until = min(job.own_until, keep)  # the rows after it moved
        return True

    def _sample(self, slot: Slot, index: int) -> int | None:
        """Draw the token for batch output `index`; None if it ended the job."""
        job = slot.job
        if job is None:
            return None
        token = job.sampler.sample(self.ctx, index)
        job.sampled += 1
        if job.sampled == 1:
            job.t_first = time.perf_counter_ns()
        if self.vocab.is_eog(token):
            slot.end_of_turn = [token]  # chat templates write it back after the reply
            self._finish(slot, "stop")
            return None
        job.generated.append(token)
        piece = self.vocab.piece(token)
        if job.logprobs is not None:  # read now: the next decode overwrites these logits
            top = job.request.top_logprobs
            job.logprobs.add(self.logprobs.read(self.ctx, index, token, top), len(piece))
        self._emit(job, job.out.feed(piece))
        if job.out.stopped:
            self._finish(slot, "stop")
        elif job.sampled >= job.limit:
            self._finish(slot, "length")
        else:
            job.next_token = token
            return token
        return None

    def _emit(self, job: Job, text: str) -> None:
        """Send the text a token released, with the logprobs of the tokens it completes."""
        logprobs = [] if job.logprobs is None else job.logprobs.release(job.out.released_bytes)
        if not text and not logprobs:
            return
        message: dict[str, Any] = {"id": job.id, "t": text}
        if logprobs:
            message["lp"] = logprobs
        if not job.announced:  # what the API reports before the reply: known from the start
            message |= {"prompt_tokens": len(job.prompt), "truncated": job.truncated}
            job.announced = True
        self.outbox.append(message)

    def _finish(self, slot: Slot, reason: str) -> None:
        job = slot.job
        now = time.perf_counter_ns()
        first = job.t_first or now
        done = {
            "text": "" if job.out.stopped else job.out.flush(),
            "done_reason": reason,
            "prompt_eval_count": max(1, job.prompt_evaluated),
            "prompt_eval_duration": first - job.t_start,
            "eval_count": job.sampled,
            "eval_duration": now - first,
            "tokens": job.prompt + (self._sent_tokens(job) if job.out.stopped else job.generated),
            "prompt_tokens": len(job.prompt),
            "truncated": job.truncated,
            "stop_sequence": job.out.matched,
            "draft_tokens": job.draft_tokens,
            "draft_accepted": job.draft_accepted,
        }
        if job.logprobs is not None:
            done["logprobs"] = job.logprobs.release(job.out.released_bytes)
        self.outbox.append({"id": job.id, "done": done})
        # The reply replays as it was generated up to its first decode shared with another
        # request, or moved by a context shift.
        if slot.seeded and job.replies is not None:
            shape = Replay(self._draft_settings(job))
            slot.reply = GeneratedReply(len(job.prompt), shape, job.own_until)
        slot.release()

    def _sent_tokens(self, job: Job) -> list[int]:
        """The generated tokens whose text was sent: a stop string, and what came with it, is
        no more part of `context` than of the reply (a token it begins in is left out)."""
        pieces = [self.vocab.piece(token) for token in job.generated]
        budget, kept = sum(map(len, pieces)) - job.out.dropped_bytes, []
        for token, piece in zip(job.generated, pieces, strict=True):
            budget -= len(piece)
            if budget < 0:
                break
            kept.append(token)
        return kept

    def _fail_batch(self, status: int) -> None:
        """A failed decode leaves the KV state of its sequences unknown: drop them."""
        message = f"llama_decode failed with status {status}"
        log.error(message)
        for slot in self.slots:
            if slot.job is not None:
                self.outbox.append(protocol.error_reply(slot.job.id, PollamaError(message)))
                C.llama_memory_seq_rm(self.mem, slot.seq_id, -1, -1)
                slot.cache, slot.reply = [], None
                slot.keep_canonical(0)
                slot.release()

    def answer_error(self, job_id: int, exc: Exception) -> None:
        """Report a failed request to the server in pollama's error terms."""
        self.outbox.append(protocol.error_reply(job_id, exc))

    def snapshot(self) -> dict[str, Any]:
        """Counters for tests and benchmarks (e.g. whether requests shared decode batches)."""
        return {
            **self.stats,
            "slot_cache_sizes": [len(s.cache) for s in self.slots],
            "slot_canonical_sizes": [s.canonical for s in self.slots],
            "recomputing": any(self._to_recompute(s) for s in self.slots),
            "draft_token_cost": self.cost.per_token(),
            "draft_model": self.draft is not None,
        }
