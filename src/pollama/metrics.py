"""What `GET /metrics` reports, in Prometheus' text format (Ollama has none: #3144, #12467).

The counters and histograms live in one registry of this module, so the scheduler and the
runner handles (engine) and the HTTP layer (api) all record into it without knowing of each
other. Gauges that are a view of the scheduler's state (queue depth, busy slots) are read
from the scheduler when `/metrics` is scraped (`pollama.api.routes.metrics`), never kept in
step with it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_PER_TOKEN = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0)

requests = Counter(
    "pollama_http_requests",
    "HTTP requests answered, by route and status code",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
prompt_tokens = Counter(
    "pollama_prompt_tokens",
    "Prompt tokens of finished generations (cached or evaluated)",
    ["model"],
    registry=REGISTRY,
)
prompt_cache_reused = Counter(
    "pollama_prompt_cache_reused_tokens",
    "Prompt tokens served from the prompt cache instead of evaluated",
    ["model"],
    registry=REGISTRY,
)
generated_tokens = Counter(
    "pollama_generated_tokens",
    "Tokens generated",
    ["model"],
    registry=REGISTRY,
)
draft_tokens = Counter(
    "pollama_speculative_draft_tokens",
    "Draft tokens sent for verification by speculative decoding",
    ["model"],
    registry=REGISTRY,
)
draft_accepted = Counter(
    "pollama_speculative_draft_accepted_tokens",
    "Draft tokens accepted by speculative decoding",
    ["model"],
    registry=REGISTRY,
)
time_to_first_token = Histogram(
    "pollama_time_to_first_token_seconds",
    "From a generation reaching its runner to its first token",
    ["model"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
token_latency = Histogram(
    "pollama_token_latency_seconds",
    "Mean time per generated token after the first, one observation per generation",
    ["model"],
    buckets=_PER_TOKEN,
    registry=REGISTRY,
)
queue_wait = Histogram(
    "pollama_queue_wait_seconds",
    "How long requests waited in the scheduler's queue for a runner (0: served at once)",
    buckets=(0.0, *_LATENCY),
    registry=REGISTRY,
)
loads = Counter(
    "pollama_model_loads",
    "Runners loaded, by model and outcome (ok, failed)",
    ["model", "outcome"],
    registry=REGISTRY,
)
unloads = Counter(
    "pollama_model_unloads",
    "Runners stopped, by model and reason (expired, evicted, reload, requested, shutdown)",
    ["model", "reason"],
    registry=REGISTRY,
)
runner_crashes = Counter(
    "pollama_runner_crashes",
    "Runner processes that stopped unexpectedly",
    ["model"],
    registry=REGISTRY,
)


def exposition() -> bytes:
    """Every metric, in Prometheus' text format."""
    return generate_latest(REGISTRY)
