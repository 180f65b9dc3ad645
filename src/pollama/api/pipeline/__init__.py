"""The generation pipeline: one path for every API family (see `run` for the stages)."""

from pollama.api.pipeline.events import (
    Event,
    Metrics,
    Piece,
    Reply,
    Result,
    Started,
    ToolCall,
    Truncation,
    collect,
)
from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.pipeline.run import Pipeline

__all__ = [
    "ChatInput",
    "Event",
    "GenerationRequest",
    "Metrics",
    "Piece",
    "Pipeline",
    "Reply",
    "Result",
    "Started",
    "TextInput",
    "ToolCall",
    "Truncation",
    "collect",
]
