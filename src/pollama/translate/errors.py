"""The one error `pollama translate` raises for what the user can fix (a missing ffmpeg, a
file with no text subtitles, an unknown format or language, a glossary that does not parse)."""

from __future__ import annotations

from pollama.errors import PollamaError


class TranslateError(PollamaError):
    """Translation cannot start or go on; the message says what to do."""

    status_code = 400
