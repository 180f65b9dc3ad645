"""Create a model: Modelfile or create request -> layers -> config -> manifest.

Both forms of `/api/create` end in `_build`, which yields Ollama's status lines. Blobs are
written first and the manifest last, so a create that fails half way leaves no model behind
(only unreferenced blobs, which a prune removes).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pollama import config
from pollama.errors import InvalidRequest, ModelNotFound
from pollama.gguf import human_number, is_gguf, read_gguf
from pollama.modelfile import parse as parse_modelfile
from pollama.modelfile import typed_parameters
from pollama.store import Layer, Manifest, ModelName, Store, gojson, normalize_digest
from pollama.store import manifest as mt
from pollama.vocabulary import VocabFacts, draft_mismatch

# Ollama's accepted quantization targets -> llama.cpp `llama_ftype` values.
QUANTIZE_TYPES = {"F32": 0, "F16": 1, "BF16": 32, "Q8_0": 7, "Q4_K_S": 14, "Q4_K_M": 15, "Q4_K": 15}
_QUANTIZABLE_SOURCES = {"F32", "F16", "BF16", "unknown"}
# What a create may set in the config blob beside the GGUF's facts; a base also passes on
# its `capabilities`.
_CONFIG_FIELDS = ("renderer", "parser", "requires")
# `golang.org/x/mod/semver` without its `v`: major[.minor[.patch]][-pre][+build].
_SEMVER = re.compile(
    r"(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)?)?"
)


@dataclass
class CreateSpec:
    """What a create request asks for, in either form."""

    from_: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    adapters: dict[str, str] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)  # a DRAFT model's file
    template: str | None = None
    system: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    quantize: str | None = None
    renderer: str = ""
    parser: str = ""
    requires: str = ""

    def check_base(self) -> None:
        """A model is built on something: an existing model or uploaded files."""
        if not self.from_ and not self.files:
            raise InvalidRequest("neither 'from' or 'files' was specified")


def create_from_request(
    store: Store,
    name: str,
    *,
    from_: str | None = None,
    files: dict[str, str] | None = None,
    adapters: dict[str, str] | None = None,
    draft_files: dict[str, str] | None = None,
    template: str | None = None,
    system: str | None = None,
    parameters: dict[str, Any] | None = None,
    messages: list[dict[str, Any]] | None = None,
    license: str | list[str] | None = None,
    quantize: str | None = None,
    draft_quantize: str | None = None,
    renderer: str = "",
    parser: str = "",
    requires: str = "",
) -> Iterator[str]:
    """The JSON create form: `files` name blobs uploaded through `/api/blobs`.

    The request is checked before the first status, so a bad one is an error response with
    its real status rather than an error line in a stream that began with 200.
    """
    ModelName.parse(name)
    for filename, digest in {**(files or {}), **(adapters or {}), **(draft_files or {})}.items():
        _check_file_name(filename)
        normalize_digest(digest)
    if draft_quantize:  # Ollama's words: a GGUF draft is quantized before it is imported
        raise InvalidRequest(
            "draft quantization during create is only supported for safetensors imports; "
            "quantize GGUF draft models with llama.cpp tools before importing"
            if draft_files
            else "--draft-quantize requires a DRAFT model"
        )
    spec = CreateSpec(
        from_=from_ or None,
        files=dict(files or {}),
        adapters=dict(adapters or {}),
        drafts=dict(draft_files or {}),
        template=template,
        system=system,
        parameters=dict(parameters or {}),
        messages=list(messages or []),
        license=[license] if isinstance(license, str) else list(license or []),
        quantize=quantize,
        renderer=renderer,
        parser=parser,
        requires=_semver(requires) if requires else "",
    )
    spec.check_base()
    return _build(store, name, spec)


def create_from_modelfile(
    store: Store,
    name: str,
    text: str,
    *,
    quantize: str | None = None,
    base_dir: Path | None = None,
) -> Iterator[str]:
    """The Modelfile form: local FROM/ADAPTER paths are copied into the store first."""
    ModelName.parse(name)
    yield "parsing modelfile"
    modelfile = parse_modelfile(text)
    spec = CreateSpec(quantize=quantize)
    params: list[tuple[str, str]] = []
    targets = {"model": spec.files, "adapter": spec.adapters, "draft": spec.drafts}
    for command in modelfile.commands:
        if command.name in targets:
            target = targets[command.name]
            local = _local_path(command.args, base_dir)
            if local is None and command.name == "model":
                spec.from_ = command.args
                continue
            if local is None:
                raise InvalidRequest(f"{command.name} {command.args!r} not found")
            yield "gathering model components"
            for path in _gguf_files(local):
                if not is_gguf(path):  # checked first: nothing else is ever read or stored
                    raise InvalidRequest("supplied file was not in GGUF format")
                digest, _size, _created = store.blobs.import_file(path)
                yield f"copying file {digest} 100%"
                target[path.name] = digest
        elif command.name == "template":
            spec.template = command.args
        elif command.name == "system":
            spec.system = command.args
        elif command.name == "license":
            spec.license.append(command.args)
        elif command.name == "message":
            role, _, content = command.args.partition(": ")
            spec.messages.append({"role": role, "content": content})
        elif command.name in ("renderer", "parser"):
            setattr(spec, command.name, command.args)
        elif command.name == "requires":
            spec.requires = _semver(command.args)
        else:
            params.append((command.name, command.args))
    spec.parameters = typed_parameters(params)
    spec.check_base()
    yield from _build(store, name, spec)


def _semver(text: str) -> str:
    """REQUIRES as Ollama checks it: a semantic version, with an optional leading `v`."""
    version = text.removeprefix("v")
    if not _SEMVER.fullmatch(version):
        raise InvalidRequest("requires must be a valid semver (e.g. 0.14.0)")
    return version


def _local_path(arg: str, base_dir: Path | None) -> Path | None:
    """The file or folder a FROM/ADAPTER names, if it is one; else None (a model name).

    Relative paths are taken from the Modelfile's folder. A name with NUL or another control
    character is no path (the OS would refuse it, or show the user something else).
    """
    if not arg or any(ord(c) < 0x20 or c == "\x7f" for c in arg):
        return None
    path = Path(arg).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return path if path.exists() else None


def _gguf_files(path: Path) -> list[Path]:
    """The regular files a FROM/ADAPTER path brings: itself, or a folder's `*.gguf`.

    Anything else (a FIFO would block the reader forever, a device never ends) is refused
    before it is opened.
    """
    found = [path] if not path.is_dir() else sorted(path.glob("*.gguf"))
    if not found:
        raise InvalidRequest("no Modelfile or safetensors files found")
    for file in found:
        if not file.is_file():
            raise InvalidRequest(f"{file} is not a regular file")
    return found


def _build(store: Store, name: str, spec: CreateSpec) -> Iterator[str]:
    """Gather the layers and write the manifest, holding every blob it will name (so a delete
    meanwhile cannot prune one; the manifest write checks them all in any case)."""
    target = ModelName.parse(name)
    created: set[str] = set()  # digests of blobs this create wrote (vs. found in the store)
    layers: list[Layer] = []
    base_config: dict[str, Any] = {}
    with store.holding() as held:
        if spec.from_:
            layers, base_config = _base_layers(store, spec.from_)
        for filename in sorted(spec.files):
            yield "parsing GGUF"
            layers.append(_file_layer(store, filename, spec.files[filename]))
        for filename in sorted(spec.adapters):
            layer = _file_layer(store, filename, spec.adapters[filename])
            layers.append(Layer(mt.ADAPTER, layer.digest, layer.size, from_=filename))
        if spec.drafts:
            layers = _with_draft(store, layers, spec.drafts)
        held.update(layer.digest for layer in layers)
        if spec.quantize:
            layers = yield from _quantize_layers(store, layers, spec.quantize, created)
        layers = _apply_overrides(store, layers, spec, created)
        config_layer = _config_layer(store, layers, base_config, spec)
        held.update([config_layer.digest, *(layer.digest for layer in layers)])
        yield from _write(store, target, layers, config_layer, created)


def _write(
    store: Store, target: ModelName, layers: list[Layer], config_layer: Layer, created: set[str]
) -> Iterator[str]:
    for layer in layers:
        verb = "creating new" if layer.digest in created else "using existing"
        yield f"{verb} layer {layer.digest}"
    old = _existing_manifest(store, target)
    yield "writing manifest"
    store.write_manifest(target, Manifest(config=config_layer, layers=tuple(layers)))
    if old is not None and not config.noprune():
        store.remove_unreferenced(old.digests())
    yield "success"


def _existing_manifest(store: Store, name: ModelName) -> Manifest | None:
    try:
        return store.read_manifest(name)[1]
    except ModelNotFound:
        return None


def _base_layers(store: Store, base: str) -> tuple[list[Layer], dict[str, Any]]:
    try:
        resolved, manifest, _raw, _path = store.read_manifest(base)
    except ModelNotFound:
        raise ModelNotFound(f"model '{base}' not found") from None
    shown = resolved.display_shortest()
    layers = [
        Layer(x.media_type, x.digest, x.size, from_=shown, name=x.name) for x in manifest.layers
    ]
    base_config = {}
    if store.has_blob(manifest.config.digest):
        base_config = json.loads(store.blob_path(manifest.config.digest).read_text())
    return layers, base_config


def _check_file_name(filename: str) -> None:
    """Go's `fs.ValidPath`: relative, `/`-separated, no empty, `.` or `..` elements."""
    if any(part in ("", ".", "..") for part in filename.split("/")):
        raise InvalidRequest("file path must be relative")


def _file_layer(store: Store, filename: str, digest: str) -> Layer:
    _check_file_name(filename)
    digest = normalize_digest(digest)
    if not store.has_blob(digest):
        raise InvalidRequest(f"blob {digest} for {filename} was not uploaded")
    path = store.blob_path(digest)
    if not is_gguf(path):
        raise InvalidRequest("supplied file was not in GGUF format")
    kind = str(read_gguf(path).metadata.get("general.type", ""))
    media = {"adapter": mt.ADAPTER, "projector": mt.PROJECTOR, "mmproj": mt.PROJECTOR}.get(
        kind, mt.MODEL
    )
    return Layer(media, digest, path.stat().st_size, filename)


def _with_draft(store: Store, layers: list[Layer], drafts: dict[str, str]) -> list[Layer]:
    """The layers with the DRAFT model's in place of any the base had, once its vocabulary
    is known to be the model's (`vocabulary.py`)."""
    if len(drafts) > 1:
        raise InvalidRequest("only one draft model is currently supported")
    ((filename, digest),) = drafts.items()
    layer = _file_layer(store, filename, digest)
    models = [x for x in layers if x.media_type == mt.MODEL]
    if models and models[0].digest == layer.digest:
        raise InvalidRequest("the draft model must differ from the model")
    if models:
        target = _vocab_facts(store.blob_path(models[0].digest))
        reason = draft_mismatch(target, _vocab_facts(store.blob_path(layer.digest)))
        if reason is not None:
            raise InvalidRequest(reason)
    draft = Layer(mt.DRAFT, layer.digest, layer.size, from_=filename)
    return [x for x in layers if x.media_type != mt.DRAFT] + [draft]


def _vocab_facts(path: Path) -> VocabFacts:
    """A GGUF's vocabulary, as its header states it."""
    meta = read_gguf(path, full_arrays=True).metadata
    tokens = meta.get("tokenizer.ggml.tokens")
    return VocabFacts(
        kind=str(meta.get("tokenizer.ggml.model", "")),
        bos=meta.get("tokenizer.ggml.bos_token_id"),
        eos=meta.get("tokenizer.ggml.eos_token_id"),
        tokens=tokens if isinstance(tokens, list) else [],
    )


def _quantize_layers(
    store: Store, layers: list[Layer], quantize: str, created: set[str]
) -> Iterator[str]:
    """Quantize every model layer with llama.cpp's own quantizer."""
    target = quantize.upper()
    if target not in QUANTIZE_TYPES:
        raise InvalidRequest(
            f"unsupported quantization type {quantize} - supported types are "
            "F32, F16, Q4_K_S, Q4_K_M, Q8_0"
        )
    target = "Q4_K_M" if target == "Q4_K" else target
    out = []
    for layer in layers:
        if layer.media_type != mt.MODEL:
            out.append(layer)
            continue
        source = read_gguf(store.blob_path(layer.digest)).file_type
        if source not in _QUANTIZABLE_SOURCES:
            raise InvalidRequest("quantization is only supported for F16, BF16 and F32 models")
        shown = "F32" if source == "unknown" else source
        if shown == target:
            out.append(layer)
            continue
        yield f"quantizing {shown} model to {target}"
        digest, size = _quantize(store, store.blob_path(layer.digest), QUANTIZE_TYPES[target])
        created.add(digest)
        yield "verifying conversion"
        out.append(Layer(mt.MODEL, digest, size))
    return out


def _quantize(store: Store, source: Path, ftype: int) -> tuple[str, int]:
    import llama_cpp

    store.blobs.root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="quantize-", dir=store.blobs.root)
    os.close(fd)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        params.nthread = 0
        if llama_cpp.llama_model_quantize(str(source).encode(), tmp.encode(), params) != 0:
            raise InvalidRequest("quantization failed")
        with open(tmp, "rb") as f:
            digest, size, _ = store.blobs.write(iter(lambda: f.read(1 << 22), b""))
        return digest, size
    finally:
        os.unlink(tmp)


def _apply_overrides(
    store: Store, layers: list[Layer], spec: CreateSpec, created: set[str]
) -> list[Layer]:
    """TEMPLATE and SYSTEM replace, LICENSE appends, PARAMETERs merge, MESSAGEs replace.

    As in Ollama, an empty value (Go's zero value) leaves the inherited layer alone, and a
    replaced layer moves to the end.
    """

    def new_layer(media: str, data: bytes) -> Layer:
        digest, size, was_created = store.blobs.write_bytes(data)
        if was_created:
            created.add(digest)
        return Layer(media, digest, size)

    def replace(media: tuple[str, ...], layer: Layer) -> list[Layer]:
        return [x for x in layers if x.media_type not in media] + [layer]

    if spec.template:
        _validate_template(spec.template)
        layers = replace((mt.TEMPLATE, mt.PROMPT), new_layer(mt.TEMPLATE, spec.template.encode()))
    if spec.system:
        layers = replace((mt.SYSTEM,), new_layer(mt.SYSTEM, spec.system.encode()))
    layers += [new_layer(mt.LICENSE, text.encode()) for text in spec.license]
    if spec.parameters:
        merged: dict[str, Any] = {}
        for layer in layers:
            if layer.media_type == mt.PARAMS:
                merged.update(json.loads(store.blob_path(layer.digest).read_text()))
        merged.update(spec.parameters)
        data = gojson.encode_line(merged, sort_keys=True)
        layers = replace((mt.PARAMS,), new_layer(mt.PARAMS, data))
    if spec.messages:
        data = gojson.encode_line([_message_struct(m) for m in spec.messages], sort_keys=True)
        layers = replace((mt.MESSAGES,), new_layer(mt.MESSAGES, data))
    return layers


# `api.Message` fields in declaration order; all but role and content are omitempty.
_MESSAGE_FIELDS = ("role", "content", "thinking", "images", "tool_calls", "tool_name")


def _message_struct(message: dict[str, Any]) -> gojson.Struct:
    """A message in `api.Message` field order, so the messages blob hashes as Ollama's."""
    out = gojson.Struct(role=message.get("role", ""), content=message.get("content", ""))
    out |= {k: message[k] for k in _MESSAGE_FIELDS[2:] if message.get(k)}
    return out


def _validate_template(template: str) -> None:
    from pollama.prompt import PromptTemplate, TemplateError

    try:
        PromptTemplate.from_model(template, None)
    except TemplateError as exc:
        raise InvalidRequest(f"template error: {exc}") from None


def _config_layer(
    store: Store, layers: list[Layer], base: dict[str, Any], spec: CreateSpec
) -> Layer:
    """Ollama's config blob, from the model layer's GGUF; values the request or base set win."""
    model_layers = [x for x in layers if x.media_type == mt.MODEL]
    family, families, model_type, file_type = "", None, "", ""
    if model_layers:
        info = read_gguf(store.blob_path(model_layers[0].digest))
        family = info.architecture
        families = [family for _ in model_layers]
        model_type = human_number(info.parameter_count)
        file_type = info.file_type
    extra = {k: v for k, v in base.items() if k in (*_CONFIG_FIELDS, "capabilities")}
    extra |= {k: getattr(spec, k) for k in _CONFIG_FIELDS if getattr(spec, k)}
    cfg = mt.config_json(
        model_format=base.get("model_format") or "gguf",
        model_family=family or base.get("model_family", ""),
        model_families=families or base.get("model_families"),
        model_type=model_type or base.get("model_type", ""),
        file_type=file_type or base.get("file_type", ""),
        diff_ids=[layer.digest for layer in layers],
        extra=extra,
    )
    digest, size, _ = store.blobs.write_bytes(gojson.encode_line(cfg))
    return Layer(mt.CONFIG_MEDIA_TYPE, digest, size)
