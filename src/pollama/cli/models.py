"""Model-management verbs: `create`, `list`/`ls`, `show`, `cp`, `rm`.

Each talks to the server through `pollama.client.Client` only, and prints what Ollama's
`cmd/cmd.go` prints: borderless tables padded with four spaces, decimal sizes ("397 MB"),
relative times ("2 minutes ago"). Errors go to stderr as `Error: <message>`, exit status 1.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from pollama.cli._errors import reports_errors
from pollama.cli._format import human_bytes, human_number, human_time, table
from pollama.cli.progress import ProgressView, progress_view, show_progress
from pollama.client import Client, ClientError

_ONE_OF = (
    "only one of '--license', '--modelfile', '--parameters', '--system', or '--template' "
    "can be specified"
)


@click.command("list")
@click.argument("prefix", required=False)
@reports_errors
def list_models(prefix: str | None) -> None:
    """List models"""
    for line in model_table(Client(), prefix):
        click.echo(line)


def model_table(client: Client, prefix: str | None = None) -> Iterator[str]:
    """The lines of `ollama list`: NAME, ID, SIZE, MODIFIED (also the REPL's `/list`)."""
    reply = client.request("GET", "/api/tags")
    rows = [
        [
            m["name"],
            m["digest"][:12],
            human_bytes(m["size"]),
            human_time(datetime.fromisoformat(m["modified_at"]), "Never"),
        ]
        for m in reply.get("models", [])
        if not prefix or m["name"].lower().startswith(prefix.lower())
    ]
    yield from table(rows, header=["NAME", "ID", "SIZE", "MODIFIED"])


@click.command("show")
@click.argument("model")
@click.option("--license", "show_license", is_flag=True, help="Show license of a model")
@click.option("--modelfile", is_flag=True, help="Show Modelfile of a model")
@click.option("--parameters", is_flag=True, help="Show parameters of a model")
@click.option("--template", is_flag=True, help="Show template of a model")
@click.option("--system", is_flag=True, help="Show system message of a model")
@click.option("-v", "--verbose", is_flag=True, help="Show detailed model information")
@reports_errors
def show(
    model: str,
    show_license: bool,
    modelfile: bool,
    parameters: bool,
    template: bool,
    system: bool,
    verbose: bool,
) -> None:
    """Show information for a model"""
    chosen = [
        field
        for field, flag in (
            ("license", show_license),
            ("modelfile", modelfile),
            ("parameters", parameters),
            ("system", system),
            ("template", template),
        )
        if flag
    ]
    if len(chosen) > 1:
        raise ClientError(_ONE_OF)
    reply = Client().request("POST", "/api/show", {"model": model, "verbose": verbose})
    if not chosen:
        for line in show_info(reply):
            click.echo(line)
        return
    # Ollama prints system and template as they are, the others with a final newline.
    value = reply.get(chosen[0], "")
    click.echo(value, nl=chosen[0] not in {"system", "template"})


def show_info(reply: dict[str, Any]) -> Iterator[str]:
    """The sections of `ollama show`: Model, Capabilities, Parameters, System, License."""
    details = reply.get("details") or {}
    info = reply.get("model_info") or {}
    arch = info.get("general.architecture", "")
    rows: list[list[str]] = []
    if arch:
        rows.append(["", "architecture", arch])
    params = details.get("parameter_size") or (
        human_number(int(info["general.parameter_count"]))
        if "general.parameter_count" in info
        else ""
    )
    if params:
        rows.append(["", "parameters", params])
    for key, label in (
        ("context_length", "context length"),
        ("embedding_length", "embedding length"),
    ):
        if f"{arch}.{key}" in info:
            rows.append(["", label, str(info[f"{arch}.{key}"])])
    rows.append(["", "quantization", details.get("quantization_level", "")])
    yield from _section("Model", rows)
    if reply.get("capabilities"):
        yield from _section("Capabilities", [["", c] for c in reply["capabilities"]])
    if reply.get("parameters"):
        lines = [ln.split() for ln in reply["parameters"].splitlines() if ln]
        yield from _section("Parameters", [["", *fields] for fields in lines])
    for key, title in (("system", "System"), ("license", "License")):
        if reply.get(key):
            yield from _section(title, _head(reply[key], 2))


def _section(title: str, rows: list[list[str]]) -> Iterator[str]:
    yield f"  {title}"
    yield from table(rows)
    yield ""


def _head(text: str, n: int) -> list[list[str]]:
    """The first `n` non-blank lines of `text`, then `...` when there are more."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows = [["", line] for line in lines[:n]]
    return [*rows, ["", "..."]] if len(lines) > n else rows


@click.command("cp")
@click.argument("source")
@click.argument("destination")
@reports_errors
def copy(source: str, destination: str) -> None:
    """Copy a model"""
    Client().request("POST", "/api/copy", {"source": source, "destination": destination})
    click.echo(f"copied '{source}' to '{destination}'")


@click.command("rm")
@click.argument("models", nargs=-1, required=True)
@reports_errors
def remove(models: tuple[str, ...]) -> None:
    """Remove a model"""
    client = Client()
    for name in models:
        client.request("DELETE", "/api/delete", {"model": name})
        click.echo(f"deleted '{name}'")


@click.command("create")
@click.argument("model")
@click.option(
    "-f", "--file", "file", default=None, help='Name of the Modelfile (default "Modelfile")'
)
@click.option("-q", "--quantize", default=None, help="Quantize model to this level (e.g. q4_K_M)")
@click.option("--draft-quantize", default=None, help="Quantize the draft model to this level")
@click.option("--insecure", is_flag=True, help="Use an insecure registry to pull a FROM model")
@reports_errors
def create(
    model: str, file: str | None, quantize: str | None, draft_quantize: str | None, insecure: bool
) -> None:
    """Create a model"""
    path = Path(file or "Modelfile")
    if path.exists():
        text, base_dir = path.read_text(), path.resolve().parent
    elif file is None:
        text, base_dir = "FROM .\n", Path.cwd()
    else:
        raise ClientError("specified Modelfile wasn't found")
    client = Client()
    with progress_view() as view:
        body = _create_request(text, base_dir, client, view)
        body["model"] = model
        if quantize:
            body["quantize"] = quantize
        if draft_quantize:
            if "draft_files" not in body:
                raise ClientError("--draft-quantize requires a DRAFT model")
            body["draft_quantize"] = draft_quantize
        if insecure:
            body["insecure"] = True
        # A FROM model that is not here is pulled by the server, inside this stream.
        show_progress(client.stream("POST", "/api/create", body), view)


def _create_request(
    text: str, base_dir: Path, client: Client, view: ProgressView
) -> dict[str, Any]:
    """The JSON create form of a Modelfile, as Ollama's `Modelfile.CreateRequest` builds it.

    A FROM, ADAPTER or DRAFT that names an existing file or folder (relative to the
    Modelfile's folder) is uploaded as blobs and sent as `files`/`adapters`/`draft_files`;
    any other FROM is a model name, sent as `from`.
    """
    from pollama.modelfile import ModelfileError, parse  # only `create` needs the parser

    try:
        modelfile = parse(text)
    except ModelfileError as exc:
        raise ClientError(str(exc)) from None
    body: dict[str, Any] = {}
    for command in modelfile.commands:
        name, args = command.name, command.args
        if name in {"model", "adapter", "draft"}:
            local = _local_path(args, base_dir)
            key = {"model": "files", "adapter": "adapters", "draft": "draft_files"}[name]
            if local is None and name != "model":
                raise ClientError(f"stat {base_dir / args}: no such file or directory")
            if local is None:
                body["from"] = args
            else:
                body.setdefault(key, {}).update(_upload(client, local, view))
        elif name in {"template", "system", "renderer", "parser", "requires"}:
            body[name] = args
        elif name == "license":
            body.setdefault("license", []).append(args)
        elif name == "message":
            role, _, content = args.partition(": ")
            body.setdefault("messages", []).append({"role": role, "content": content})
    if modelfile.parameters:
        body["parameters"] = modelfile.parameters
    return body


def _local_path(arg: str, base_dir: Path) -> Path | None:
    """`arg` as a file or folder relative to `base_dir` (with `~` expanded), or None."""
    path = Path(arg).expanduser()
    path = path if path.is_absolute() else base_dir / path
    return path if path.exists() else None


def _upload(client: Client, path: Path, view: ProgressView) -> dict[str, str]:
    """Upload the model files at `path` (a file, or a folder's GGUF/safetensors files) as
    blobs, each with a bar of its bytes sent (full at once for a blob already there)."""
    files = [path] if path.is_file() else sorted(_model_files(path))
    if not files:
        raise ClientError(f"no Modelfile or safetensors files found in {path}")
    view.status("gathering model components")
    digests: dict[str, str] = {}
    for file in files:
        digest = _file_digest(file)
        size = file.stat().st_size
        sent = functools.partial(view.layer, digest, f"copying file {digest[7:19]}:", size)
        try:
            client.request("HEAD", f"/api/blobs/{digest}")
            sent(size)
        except ClientError as exc:
            if exc.status_code != 404:
                raise
            client.upload(f"/api/blobs/{digest}", file, sent)
        digests[file.name] = digest
    return digests


def _model_files(folder: Path) -> Iterator[Path]:
    for pattern in ("*.gguf", "*.safetensors", "*.json", "tokenizer.model"):
        yield from folder.glob(pattern)


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return f"sha256:{sha.hexdigest()}"


def register(cli: click.Group) -> None:
    """Add this module's commands to `cli`."""
    for command in (create, show, list_models, copy, remove):
        cli.add_command(command)
    cli.add_command(list_models, name="ls")
