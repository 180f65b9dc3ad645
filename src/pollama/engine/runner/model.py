"""Loading a GGUF through llama.cpp's low-level API, and the vocabulary helpers around it.

Everything here runs inside the runner process. llama.cpp's own log lines are captured so a
failed load can report llama.cpp's reason rather than a bare "failed to load".
"""

from __future__ import annotations

import collections
import ctypes
import itertools
import logging
import os
import re
from pathlib import Path

import llama_cpp.llama_cpp as C

from pollama.engine.types import LoadSpec, ModelMetadata, RunnerOptions
from pollama.errors import PollamaError

log = logging.getLogger(__name__)

_LOG_LEVELS = {3: logging.INFO, 4: logging.ERROR}  # ggml: 1 debug, 2 info, 5 continued
_recent_errors: collections.deque[str] = collections.deque(maxlen=8)
_POOLING_NAMES = {0: "none", 1: "mean", 2: "cls", 3: "last", 4: "rank"}
EMBED_SEQ_MAX = 32  # inputs pooled per embedding decode
# "llama_kv_cache:        CPU KV buffer size =     0.25 MiB": what Ollama reads back too.
_BUFFER = re.compile(r"\b(model|KV|compute|output|RS) buffer size = +([0-9.]+) MiB")
buffer_bytes: collections.Counter[str] = collections.Counter()  # by kind, this process
_FLASH_ATTENTION = {
    "auto": C.LLAMA_FLASH_ATTN_TYPE_AUTO,
    "on": C.LLAMA_FLASH_ATTN_TYPE_ENABLED,
    "off": C.LLAMA_FLASH_ATTN_TYPE_DISABLED,
}
_KV_TYPES = {"f16": C.GGML_TYPE_F16, "q8_0": C.GGML_TYPE_Q8_0, "q4_0": C.GGML_TYPE_Q4_0}


@C.llama_log_callback
def _on_llama_log(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    line = text.decode("utf-8", errors="replace").rstrip()
    if buffer := _BUFFER.search(line):
        buffer_bytes[buffer[1]] += int(float(buffer[2]) * (1 << 20))
    if level in _LOG_LEVELS and line:
        _recent_errors.append(line)
        log.log(_LOG_LEVELS[level], "llama.cpp: %s", line)
    elif line:
        log.debug("llama.cpp: %s", line)


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def physical_cores() -> int:
    """Physical cores, the thread count at which llama.cpp decodes fastest on CPU."""
    cores = set()
    physical = core = ""
    for line in _cpuinfo().splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        elif not key:
            cores.add((physical, core))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(len(cores) or usable or 1, usable or 1))


def cpu_has_amx(cpuinfo: str | None = None) -> bool:
    """Whether the CPU flags in `cpuinfo` (the text of /proc/cpuinfo, this machine's unless
    given) include Intel AMX."""
    for line in (_cpuinfo() if cpuinfo is None else cpuinfo).splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return "amx_int8" in value.split()
    return False


def meta_string(model: C.llama_model_p, key: str) -> str | None:
    """A GGUF metadata value as a string, or None when the key is absent."""
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        n = C.llama_model_meta_val_str(model, key.encode(), buf, size)
        if n < 0:
            return None
        if n < size:
            return buf.value.decode("utf-8", errors="replace")
        size = n + 1


def load_model(spec: LoadSpec) -> tuple[C.llama_model_p, list[C.llama_adapter_lora_p]]:
    """The model's weights and LoRA adapters, or PollamaError with llama.cpp's reasons."""
    C.llama_log_set(_on_llama_log, ctypes.c_void_p(0))
    C.llama_backend_init()
    opts = spec.options
    if opts.numa:  # Ollama's `numa` is llama.cpp's `--numa distribute`
        C.llama_numa_init(C.GGML_NUMA_STRATEGY_DISTRIBUTE)
    params = C.llama_model_default_params()
    params.n_gpu_layers = 999 if opts.num_gpu < 0 else opts.num_gpu
    params.main_gpu = opts.main_gpu
    params.load_mode = load_mode(opts.use_mmap, opts.use_mlock)
    # On AMX CPUs the vendored llama.cpp's AMX matmul crashes the process (SIGSEGV, SIGILL) on
    # the first batch of more than one token: llama.cpp #20824, fixed upstream only by #26954.
    # There the weights stay in plain CPU buffers, as llama-server's `--no-repack` keeps them.
    if cpu_has_amx():
        params.use_extra_bufts = False
    model = C.llama_model_load_from_file(str(spec.model_path).encode(), params)
    if not model:
        raise PollamaError(_load_failure(f"unable to load model: {spec.model_path}"))
    adapters = []
    for path in spec.adapters:
        adapter = C.llama_adapter_lora_init(model, str(path).encode())
        if not adapter:
            raise PollamaError(_load_failure(f"unable to load adapter: {path}"))
        adapters.append(adapter)
    return model, adapters


def load_mode(use_mmap: bool | None, use_mlock: bool) -> int:
    """llama.cpp's load mode for Ollama's `use_mmap` (None: llama.cpp decides) and `use_mlock`."""
    if use_mlock:
        return C.LLAMA_LOAD_MODE_MLOCK if use_mmap is False else C.LLAMA_LOAD_MODE_MMAP_MLOCK
    if use_mmap is None:
        return C.LLAMA_LOAD_MODE_AUTO
    return C.LLAMA_LOAD_MODE_MMAP if use_mmap else C.LLAMA_LOAD_MODE_NONE


def _load_failure(message: str) -> str:
    reasons = "; ".join(_recent_errors)
    return f"{message}: {reasons}" if reasons else message


def model_pooling(model: C.llama_model_p) -> int:
    """The pooling the GGUF declares; mean for decoder models that declare none."""
    arch = meta_string(model, "general.architecture") or ""
    declared = meta_string(model, f"{arch}.pooling_type")
    if declared is not None and declared.isdigit() and int(declared) > 0:
        return int(declared)
    return C.LLAMA_POOLING_TYPE_MEAN


def new_context(
    model: C.llama_model_p, opts: RunnerOptions, adapters: list[C.llama_adapter_lora_p]
) -> C.llama_context_p:
    """A context sized for `num_parallel` slots of `num_ctx` tokens each (or for embeddings)."""
    params = C.llama_context_default_params()
    threads = opts.num_thread if opts.num_thread > 0 else physical_cores()
    params.n_threads = threads
    params.n_threads_batch = threads
    if opts.rope_frequency_base:
        params.rope_freq_base = opts.rope_frequency_base
    if opts.rope_frequency_scale:
        params.rope_freq_scale = opts.rope_frequency_scale
    params.no_perf = True
    params.flash_attn_type = _FLASH_ATTENTION.get(
        opts.flash_attention, C.LLAMA_FLASH_ATTN_TYPE_AUTO
    )
    params.type_k = params.type_v = _KV_TYPES.get(opts.kv_cache_type, C.GGML_TYPE_F16)
    if opts.embedding:
        # Pooled embeddings need each input whole in one ubatch; all share one KV buffer.
        size = max(opts.num_ctx, opts.num_batch)
        params.n_ctx = params.n_batch = params.n_ubatch = size
        params.n_seq_max = EMBED_SEQ_MAX
        params.kv_unified = True
        params.embeddings = True
        params.pooling_type = model_pooling(model)
    else:
        # One KV stream per slot: attention then only spans a slot's own cells, which is
        # faster than a unified buffer when slots share no prefix (llama.cpp's own advice).
        params.n_ctx = opts.num_ctx * opts.num_parallel
        params.n_batch = max(opts.num_batch, opts.num_parallel)
        params.n_ubatch = params.n_batch
        params.n_seq_max = opts.num_parallel
        params.kv_unified = opts.num_parallel == 1
    # A sliding-window cache forgets old positions, so a cached prefix could not be resumed
    # after its tail is removed; the full-size SWA cache keeps the prompt cache exact.
    params.swa_full = C.llama_model_n_swa(model) > 0
    ctx = C.llama_init_from_model(model, params)
    if not ctx:
        raise PollamaError(_load_failure("unable to create context"))
    if adapters:
        n = len(adapters)
        array = (C.llama_adapter_lora_p_ctypes * n)(*adapters)
        scales = (ctypes.c_float * n)(*([1.0] * n))
        C.llama_set_adapters_lora(ctx, array, n, scales)
    log.info("context: n_ctx=%d n_seq_max=%d threads=%d", params.n_ctx, params.n_seq_max, threads)
    return ctx


def metadata(
    model: C.llama_model_p,
    ctx: C.llama_context_p,
    embedding: bool,
    draft: C.llama_context_p | None = None,
) -> ModelMetadata:
    """What the server may ask of the loaded model. With a `draft` model's context beside it,
    `size` counts the draft's weights too: the process holds both (the draft's KV cache and
    compute buffers are in llama.cpp's buffer totals already)."""
    template = C.llama_model_chat_template(model, None)
    chat_template = template.decode() if template else meta_string(model, "tokenizer.chat_template")
    pooling = _POOLING_NAMES.get(C.llama_pooling_type(ctx)) if embedding else None
    weights = C.llama_model_size(model)
    if draft is not None:
        weights += C.llama_model_size(C.llama_get_model(draft))
    return ModelMetadata(
        n_ctx_train=C.llama_model_n_ctx_train(model),
        n_embd=C.llama_model_n_embd(model),
        n_params=C.llama_model_n_params(model),
        size=weights,
        chat_template=chat_template,
        has_encoder=bool(C.llama_model_has_encoder(model)),
        pooling=pooling,
        kv_cache_size=buffer_bytes["KV"] + buffer_bytes["RS"],
        compute_size=buffer_bytes["compute"] + buffer_bytes["output"],
    )


class Vocab:
    """Tokenizing and detokenizing with reusable buffers."""

    def __init__(self, model: C.llama_model_p) -> None:
        self.vocab = C.llama_model_get_vocab(model)
        self.n_tokens = C.llama_vocab_n_tokens(self.vocab)
        self.bos = C.llama_vocab_bos(self.vocab)
        self.add_bos = bool(C.llama_vocab_get_add_bos(self.vocab))
        self._piece = ctypes.create_string_buffer(256)
        self._pieces: dict[int, bytes] = {}
        self._text_pieces: dict[int, bytes] = {}

    def tokenize(self, text: str, add_special: bool) -> list[int]:
        """Tokens of `text`; special tokens such as `<|im_start|>` are parsed."""
        data = text.encode()
        cap = len(data) + 8
        buf = (C.llama_token * cap)()
        n = C.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, True)
        if n < 0:
            cap = -n
            buf = (C.llama_token * cap)()
            n = C.llama_tokenize(self.vocab, data, len(data), buf, cap, add_special, True)
        return buf[:n]

    def detokenize(self, tokens: list[int]) -> str:
        """Text of `tokens`, special tokens rendered as text."""
        arr = (C.llama_token * len(tokens))(*tokens)
        cap = len(tokens) * 8 + 16
        out = ctypes.create_string_buffer(cap)
        n = C.llama_detokenize(self.vocab, arr, len(tokens), out, cap, False, True)
        if n < 0:
            cap = -n
            out = ctypes.create_string_buffer(cap)
            n = C.llama_detokenize(self.vocab, arr, len(tokens), out, cap, False, True)
        return out.raw[:n].decode("utf-8", errors="replace")

    def piece(self, token: int) -> bytes:
        """The bytes of one generated token (memoised: the same tokens recur constantly)."""
        return self._memoised_piece(token, self._pieces, special=False)

    def _memoised_piece(self, token: int, memo: dict[int, bytes], special: bool) -> bytes:
        cached = memo.get(token)
        if cached is None:
            n = C.llama_token_to_piece(self.vocab, token, self._piece, 256, 0, special)
            cached = self._piece.raw[: max(n, 0)]
            memo[token] = cached
        return cached

    def token_spans(
        self, tokens: list[int], text: str, spans: tuple[tuple[int, int], ...]
    ) -> list[tuple[int, int]]:
        """The token ranges of `tokens` (`text` tokenized) that cover exactly the byte ranges
        `spans` of `text`; a range that a token straddles is left out."""
        ends = list(itertools.accumulate(len(self._text_piece(t)) for t in tokens))
        # What the tokenizer put before the text (a BOS, a leading space) shifts every end.
        shift = (ends[-1] if ends else 0) - len(text.encode())
        at = {end - shift: i + 1 for i, end in enumerate(ends)}
        at.setdefault(0, 0)
        return [(at[a], at[b]) for a, b in spans if a in at and b in at]

    def _text_piece(self, token: int) -> bytes:
        """The bytes of a prompt token, special tokens as their text (memoised)."""
        return self._memoised_piece(token, self._text_pieces, special=True)

    def is_eog(self, token: int) -> bool:
        """End of generation (EOS, EOT, <|im_end|> and the like)."""
        return bool(C.llama_vocab_is_eog(self.vocab, token))
