"""The interactive chat of `pollama run`: Ollama's prompt, its `/commands`, its help texts.

Every line that is not a command is a chat turn (`session.chat_turn`). A failed turn or a
mistyped command prints an error and the chat goes on; only `/bye`, `/exit` and end of
input end it.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from pollama import config
from pollama.cli.models import model_table, show_info
from pollama.cli.session import Session, chat_turn
from pollama.client import Client, ClientError
from pollama.errors import InvalidRequest
from pollama.modelfile import typed_parameters

HELP = """Available Commands:
  /set            Set session variables
  /show           Show model information
  /load <model>   Load a session or model
  /save <model>   Save your current session
  /clear          Clear session context
  /list           List models
  /bye            Exit
  /?, /help       Help for a command
  /? shortcuts    Help for keyboard shortcuts

Use \"\"\" to begin a multi-line message.
"""

SET_HELP = """Available Commands:
  /set parameter ...     Set a parameter
  /set system <string>   Set system message
  /set history           Enable history
  /set nohistory         Disable history
  /set wordwrap          Enable wordwrap
  /set nowordwrap        Disable wordwrap
  /set format json       Enable JSON mode
  /set noformat          Disable formatting
  /set think [level]     Enable thinking (levels: low, medium, high)
  /set nothink           Disable thinking
  /set verbose           Show LLM stats
  /set quiet             Disable LLM stats
"""

SHOW_HELP = """Available Commands:
  /show info         Show details for this model
  /show license      Show model license
  /show modelfile    Show Modelfile for this model
  /show parameters   Show parameters for this model
  /show system       Show system message
  /show template     Show prompt template
"""

SHORTCUTS_HELP = """Available keyboard shortcuts:
  Ctrl + a            Move to the beginning of the line (Home)
  Ctrl + e            Move to the end of the line (End)
  Alt + b             Move back (left) one word
  Alt + f             Move forward (right) one word
  Ctrl + k            Delete the sentence after the cursor
  Ctrl + u            Delete the sentence before the cursor
  Ctrl + w            Delete the word before the cursor

  Ctrl + l            Clear the screen
  Ctrl + c            Stop the model from responding
  Ctrl + d            Exit pollama (/bye)
"""

_TOPICS = {"set": SET_HELP, "show": SHOW_HELP, "shortcuts": SHORTCUTS_HELP}


def set_command(session: Session, args: list[str]) -> None:
    """`/set ...`: change a session setting."""
    what = args[0] if args else ""
    flags = {
        "verbose": ("verbose", True),
        "quiet": ("verbose", False),
        "wordwrap": ("wordwrap", True),
        "nowordwrap": ("wordwrap", False),
        "history": ("history", True),
        "nohistory": ("history", False),
        "noformat": ("format", None),
    }
    if what in flags:
        setattr(session, *flags[what])
        click.echo(f"Set '{what}' mode.")
    elif what == "format" and args[1:] == ["json"]:
        session.format = "json"
        click.echo("Set format to 'json' mode.")
    elif what == "think":
        session.think = args[1] if len(args) > 1 else True
        click.echo(f"Set 'think' mode to '{args[1]}'." if len(args) > 1 else "Set 'think' mode.")
    elif what == "nothink":
        session.think = False
        click.echo("Set 'nothink' mode.")
    elif what == "system" and len(args) > 1:
        session.system = " ".join(args[1:])
        click.echo("Set system message.")
    elif what == "parameter" and len(args) > 2:
        set_parameter(session, args[1], args[2:])
    else:
        click.echo(SET_HELP)


def set_parameter(session: Session, name: str, values: list[str]) -> None:
    """`/set parameter NAME VALUE...`, typed as a Modelfile PARAMETER (several for `stop`)."""
    pairs = [(name, v) for v in values] if name == "stop" else [(name, " ".join(values))]
    try:
        session.options.update(typed_parameters(pairs))
    except InvalidRequest as exc:
        click.echo(f"Couldn't set parameter: {exc.message}")
        return
    click.echo(f"Set parameter '{name}' to '{', '.join(values)}'")


def show_command(client: Client, session: Session, args: list[str]) -> None:
    """`/show ...`: what `pollama show` prints, for the session's model and settings."""
    what = args[0] if args else ""
    if what not in ("info", "license", "modelfile", "parameters", "system", "template"):
        click.echo(SHOW_HELP)
        return
    reply = client.request("POST", "/api/show", {"model": session.model})
    if what == "info":
        for line in show_info(reply):
            click.echo(line)
    elif what == "system":
        click.echo(session.system or reply.get("system") or "No system message was specified.")
    elif what == "parameters":
        _show_parameters(reply.get("parameters") or "", session)
    else:
        click.echo(reply.get(what) or f"No {what} was specified for this model.")


def _show_parameters(model_parameters: str, session: Session) -> None:
    if not model_parameters and not session.options:
        click.echo("No parameters were specified for this model.")
        return
    if session.options:
        click.echo("User defined parameters:")
        for name, value in session.options.items():
            click.echo(f"{name:<30} {value}")
        click.echo()
    if model_parameters:
        click.echo("Model defined parameters:")
        click.echo(model_parameters)


def load_command(client: Client, session: Session, args: list[str]) -> None:
    """`/load MODEL`: chat with another model, from a clean history."""
    if len(args) != 1:
        click.echo("Usage:\n  /load <modelname>")
        return
    client.request("POST", "/api/generate", {"model": args[0], "stream": False})
    session.model, session.messages = args[0], []
    click.echo(f"Loading model '{args[0]}'")


def save_command(client: Client, session: Session, args: list[str]) -> None:
    """`/save MODEL`: a new model from this one, with the session's system prompt,
    parameters and history, as Ollama's `/save` creates it."""
    if len(args) != 1:
        click.echo("Usage:\n  /save <modelname>")
        return
    body: dict[str, object] = {"model": args[0], "from": session.model, "stream": False}
    if session.system:
        body["system"] = session.system
    if session.options:
        body["parameters"] = session.options
    if session.messages:
        body["messages"] = session.messages
    client.request("POST", "/api/create", body)
    click.echo(f"Created new model '{args[0]}'")


def handle_command(client: Client, session: Session, line: str) -> bool:
    """Run a `/command`; False when the session should end."""
    name, *args = line.split()
    if name in ("/bye", "/exit"):
        return False
    commands: dict[str, Callable[[], None]] = {
        "/set": lambda: set_command(session, args),
        "/show": lambda: show_command(client, session, args),
        "/load": lambda: load_command(client, session, args),
        "/save": lambda: save_command(client, session, args),
        "/list": lambda: _list(client),
        "/clear": lambda: _clear(session),
        "/?": lambda: click.echo(_TOPICS.get(args[0] if args else "", HELP)),
    }
    commands["/help"] = commands["/?"]
    if name in commands:
        commands[name]()
    else:
        click.echo(f"Unknown command '{name}'. Type /? for help")
    return True


def _list(client: Client) -> None:
    for row in model_table(client):
        click.echo(row)


def _clear(session: Session) -> None:
    session.messages = []
    click.echo("Cleared session context")


def read_message(read: Callable[[str], str]) -> str:
    """One message; `\"\"\"` opens a multi-line one that ends at the next `\"\"\"`."""
    line = read(">>> ")
    if not line.lstrip().startswith('"""'):
        return line
    lines = [line.lstrip()[3:]]
    while not lines[-1].rstrip().endswith('"""'):
        lines.append(read("... "))
    lines[-1] = lines[-1].rstrip()[:-3]
    return "\n".join(lines).strip("\n")


def repl(client: Client, session: Session, read: Callable[[str], str]) -> None:
    """The interactive chat; `read(prompt)` returns a line and raises EOFError at the end."""
    while True:
        try:
            line = read_message(read)
        except KeyboardInterrupt:
            click.echo("\nUse Ctrl + d or /bye to exit.")
            continue
        except EOFError:
            return
        if not line.strip():
            continue
        try:
            if line.startswith("/"):
                if not handle_command(client, session, line):
                    return
                continue
            chat_turn(client, session, line)
        except ClientError as exc:
            click.echo(f"Error: {exc.message}", err=True)


def terminal_reader(session: Session) -> Callable[[str], str]:
    """prompt_toolkit's line editor when on a terminal. Lines are kept in `~/.ollama/history`
    unless `OLLAMA_NOHISTORY` is set or `/set nohistory` is on."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    class SessionHistory(FileHistory):
        def store_string(self, string: str) -> None:
            if session.history:
                super().store_string(string)

    history: History = InMemoryHistory()
    if not config.nohistory():
        path = config.history_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        history = SessionHistory(str(path))
    prompt_session: PromptSession[str] = PromptSession(history=history)

    def read(prompt: str) -> str:
        placeholder = "Send a message (/? for help)" if prompt == ">>> " else ""
        return prompt_session.prompt(prompt, placeholder=placeholder)

    return read
