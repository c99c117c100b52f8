"""``paretohqd serve``: a finished run behind an OpenAI-compatible HTTP API, the preference
chosen per request, and a page to try it.

    GET  /                      the page: a prompt, a slider (a triangle for three objectives)
    GET  /v1/models             every served method, its objectives and trained preferences
    GET  /v1/models/{id}        one of them
    POST /v1/chat/completions   OpenAI's chat completions, plus ``preference``, ``interpolate``
                                and ``score`` (the official client passes them in extra_body)
    GET  /health                liveness, the queue and the running batch
    GET  /metrics               Prometheus' text format (``paretohqd.serving.metrics``)

Every error has OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``); a
message names the field at fault. Requests are answered in batches (``batching.Scheduler``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, AsyncIterator, Literal, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from paretohqd.io import DataError
from paretohqd.policy.generation import SamplingSettings
from paretohqd.serving.batching import Cancelled, Completion, Job, QueueFull
from paretohqd.serving.interpolation import PreferenceError, check_preference, realised
from paretohqd.serving.metrics import CONTENT_TYPE, ServerMetrics
from paretohqd.serving.model_pool import ModelPool

INT64 = 2**63  # seeds are 64-bit signed integers, as OpenAI's
MAX_STOPS = 4  # stop sequences per request, as OpenAI's
# OpenAI fields accepted only at the value that changes nothing
ONLY_DEFAULT = {"frequency_penalty", "presence_penalty", "logprobs"}
# OpenAI's chat completion fields this server refuses (a 400 names the field)
UNSUPPORTED = ("tools", "tool_choice", "parallel_tool_calls", "functions", "function_call",
               "response_format", "logit_bias", "logprobs (true)", "top_logprobs", "audio",
               "modalities", "prediction", "reasoning_effort", "web_search_options", "store",
               "metadata", "service_tier")
OPEN_PATHS = {"/", "/health"}  # answered without the API key
LOG = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class Limits:
    """What one request may ask, and how many may wait."""

    max_tokens: int = 1024  # max_tokens / max_completion_tokens
    max_n: int = 16  # answers per request
    max_prompt_tokens: int | None = None  # None: the model's context less max_tokens
    max_body_bytes: int = 1 << 20
    max_queue: int = 64  # waiting requests; a 429 beyond


class RequestError(ValueError):
    """A request the server cannot serve; ``param`` names the field."""

    def __init__(self, param: str | None, message: str, status: int = 400,
                 kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.param, self.status, self.kind, self.code = param, status, kind, code


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    role: Literal["developer", "system", "user", "assistant"]
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(
            part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI's chat completion request as far as this server honours it, plus the
    preference; an unknown field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1)
    seed: int | None = Field(default=None, ge=-INT64, lt=INT64)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    # accepted at the values that change nothing
    frequency_penalty: Literal[0] | None = None
    presence_penalty: Literal[0] | None = None
    logprobs: Literal[False] | None = None
    # the extensions
    preference: dict[str, float] | list[float] | None = None
    interpolate: bool | None = None
    score: bool = False


def openai_error(status: int, message: str, param: str | None,
                 kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    """OpenAI's error body."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status)


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def resolve_preference(value: dict[str, float] | list[float] | None,
                       objectives: Sequence[str]) -> tuple[float, ...]:
    """The asked preference as weights in objective order (equal weights when absent)."""
    if value is None:
        return tuple(1 / len(objectives) for _ in objectives)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(objectives))
        if unknown:
            raise RequestError("preference", f"preference: unknown objective(s) {unknown}; "
                                             f"the objectives are {list(objectives)}")
        missing = [o for o in objectives if o not in value]
        if missing:
            raise RequestError("preference", f"preference: no weight for {missing}; give one "
                                             f"per objective {list(objectives)}")
        value = [value[o] for o in objectives]
    try:
        return check_preference(value, objectives)
    except PreferenceError as err:
        raise RequestError("preference", f"preference: {str(err).removeprefix('preference ')}"
                           ) from None


def stop_sequences(stop: str | list[str] | None) -> tuple[str, ...]:
    """The request's stop sequences, checked."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if len(stops) > MAX_STOPS:
        raise RequestError("stop", f"stop: {len(stops)} sequences; at most {MAX_STOPS}")
    if any(not s for s in stops):
        raise RequestError("stop", "stop: an empty sequence would end every answer at once")
    return tuple(stops)


class Server:
    """What the routes share: the pool, the run's choices and the limits."""

    def __init__(self, pool: ModelPool, methods: Sequence[str], seed: int | None,
                 interpolate: bool, defaults: SamplingSettings, limits: Limits = Limits(),
                 api_key: str | None = None) -> None:
        unknown = sorted(set(methods) - set(pool.served.index["methods"]))
        if unknown:
            raise DataError(f"method(s) {unknown}: not in {pool.served.results}; it has "
                            f"{sorted(pool.served.index['methods'])}")
        self.pool, self.methods, self.interpolate, self.defaults = (pool, list(methods),
                                                                    interpolate, defaults)
        self.limits, self.api_key = limits, api_key
        self.seed = pool.served.adapters(self.methods[0], seed)[0]
        self.created = int(time.time())
        self.metrics = ServerMetrics(self.live)
        pool.scheduler.on_step = self.metrics.batch_rows.observe

    @property
    def objectives(self) -> list[str]:
        return self.pool.served.objectives

    def live(self) -> dict[str, int]:
        """The queue, the running batch and the adapter cache, now."""
        return {"queue_depth": self.pool.scheduler.queue_depth,
                "batch_rows": self.pool.scheduler.running_rows, **self.pool.bank.cache_info()}

    def model_card(self, name: str) -> dict:
        return {"id": name, "object": "model", "created": self.created, "owned_by": "paretohqd",
                "objectives": self.objectives, "seed": self.seed,
                "interpolate": self.interpolate,
                "preferences": [w for _, w in sorted(
                    self.pool.served.trained_preferences(name).items())]}

    def models(self) -> dict:
        return {"object": "list", "data": [self.model_card(name) for name in self.methods]}

    def _prompt(self, messages: Sequence[Message]) -> str | list[dict]:
        if self.pool.served.prompt_format == "chat":
            # a chat template knows system, user and assistant: developer is OpenAI's system
            return [{"role": "system" if m.role == "developer" else m.role, "content": m.text()}
                    for m in messages]
        if len(messages) == 1 and messages[0].role == "user":
            return messages[0].text()
        raise RequestError("messages", "messages: this run's model reads raw text "
                                       "(prompt_format raw), so send one user message "
                                       "holding the whole prompt")

    def plan(self, request: ChatRequest) -> dict:
        """Everything a request needs before the models run, checked (``RequestError``)."""
        limits = self.limits
        if request.model not in self.methods:
            raise RequestError("model", f"model: unknown method {request.model!r}; this server "
                                        f"serves {self.methods}", code="model_not_found")
        if request.n > limits.max_n:
            raise RequestError("n", f"n: {request.n} answers; this server gives at most "
                                    f"{limits.max_n} per request")
        max_tokens = (request.max_completion_tokens or request.max_tokens
                      or self.defaults.max_new_tokens)
        if max_tokens > limits.max_tokens:
            param = "max_completion_tokens" if request.max_completion_tokens else "max_tokens"
            raise RequestError(param, f"{param}: {max_tokens}; this server draws at most "
                                      f"{limits.max_tokens} tokens per answer")
        stops = stop_sequences(request.stop)
        preference = resolve_preference(request.preference, self.objectives)
        interpolate = self.interpolate if request.interpolate is None else request.interpolate
        _, chosen = self.pool.served.choose(preference, request.model, self.seed, interpolate)
        tokens = self.pool.encode(self._prompt(request.messages))
        context = self.pool.context
        if limits.max_prompt_tokens is not None and len(tokens) > limits.max_prompt_tokens:
            raise RequestError("messages", f"messages: the prompt is {len(tokens)} tokens; "
                                           f"this server takes at most "
                                           f"{limits.max_prompt_tokens}")
        if context is not None and len(tokens) + max_tokens > context:
            raise RequestError("messages", f"messages: the prompt is {len(tokens)} tokens and "
                                           f"max_tokens {max_tokens}; together they exceed the "
                                           f"model's context of {context} tokens")
        users = [m.text() for m in request.messages if m.role == "user"]
        seed = secrets.randbits(63) if request.seed is None else request.seed
        job = Job(chosen=chosen, tokens=tokens, n=request.n,
                  temperature=(self.defaults.temperature if request.temperature is None
                               else request.temperature),
                  top_p=request.top_p or self.defaults.top_p, max_new_tokens=max_tokens,
                  seed=seed, stop=stops)
        adapters = [{"pref_id": a["pref_id"], "weights": a["weights"],
                     "merge_weight": a["merge_weight"]} for a in chosen]
        reached = realised([(a["pref_id"], a["merge_weight"]) for a in chosen],
                           {a["pref_id"]: a["weights"] for a in chosen})
        return {"job": job, "scored_prompt": users[-1] if users else "",
                "extension": {"preference": dict(zip(self.objectives, preference)),
                              "realised_preference": dict(zip(self.objectives, reached)),
                              "interpolate": interpolate, "training_seed": self.seed,
                              "seed": seed, "adapters": adapters}}

    def submit(self, job: Job):
        try:
            return self.pool.submit(job)
        except QueueFull as err:
            raise RequestError(None, f"server busy: {err}; retry later", status=429,
                               kind="rate_limit_error", code="queue_full") from None

    def finish(self, request: ChatRequest, plan: dict, answers: Sequence[Completion]) -> dict:
        """The response's extension fields, with the rewards when asked; counts the tokens."""
        self.metrics.prompt_tokens.inc(len(plan["job"].tokens))
        self.metrics.completion_tokens.inc(sum(a.tokens for a in answers))
        extension = dict(plan["extension"])
        if request.score:
            extension["rewards"] = self.pool.score(plan["scored_prompt"],
                                                   [a.text for a in answers])
        return extension


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets a 413 before it is parsed."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and int(declared) > self.max_bytes:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send) -> None:
        response = openai_error(413, f"body: over {self.max_bytes} bytes, the most this server "
                                     "reads (--max-body-bytes)", "body")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(server: Server) -> FastAPI:
    """The ASGI app serving ``server``."""
    app = FastAPI(title="ParetoHqD", summary="A run's models, the preference per request")
    metrics = server.metrics

    @app.middleware("http")
    async def authorise(request: Request, call_next):
        if server.api_key and request.url.path not in OPEN_PATHS:
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given.encode(), f"Bearer {server.api_key}".encode()):
                return openai_error(401, "authorization: a missing or wrong API key (send "
                                         "'Authorization: Bearer <key>')", None,
                                    code="invalid_api_key")
        return await call_next(request)

    app.add_middleware(BodyLimit, max_bytes=server.limits.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        metrics.requests.labels("invalid").inc()
        first = err.errors()[0]
        field = _field(first["loc"])
        message = ("not supported by this server"
                   if first["type"] == "extra_forbidden" or field in ONLY_DEFAULT
                   else first["msg"])
        return openai_error(400, f"{field}: {message}", field)

    @app.exception_handler(RequestError)
    async def refused(_: Request, err: RequestError) -> JSONResponse:
        metrics.requests.labels({429: "busy", 499: "cancelled", 500: "error"}.get(
            err.status, "invalid")).inc()
        return openai_error(err.status, str(err), err.param, err.kind, err.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return openai_error(err.status_code, str(err.detail), None,
                            "not_found_error" if err.status_code == 404
                            else "invalid_request_error")

    @app.exception_handler(Exception)
    async def failed(_: Request, err: Exception) -> JSONResponse:
        metrics.requests.labels("error").inc()
        return openai_error(500, f"server error: {type(err).__name__}: {err}", None,
                            "server_error")

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return resources.files("paretohqd.serving").joinpath("page.html").read_text("utf-8")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "auth": bool(server.api_key), **server.live()}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE)

    @app.get("/v1/models")
    async def models() -> dict:
        return server.models()

    @app.get("/v1/models/{name}")
    async def model(name: str) -> dict:
        if name not in server.methods:
            raise RequestError("model", f"model: unknown method {name!r}; this server serves "
                                        f"{server.methods}", status=404,
                               code="model_not_found")
        return server.model_card(name)

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest, http: Request):
        try:
            return await answer(request, http)
        except RequestError:
            raise
        except Exception as err:  # a fault of the server's: 500, and the server serves on
            LOG.exception("request failed")
            raise RequestError(None, f"server error: {type(err).__name__}: {err}",
                               status=500, kind="server_error") from err

    async def answer(request: ChatRequest, http: Request):
        arrived = time.monotonic()
        plan = await run_in_threadpool(server.plan, request)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        head = {"id": ident, "created": created, "model": request.model,
                "system_fingerprint": None}
        job = plan["job"]
        if request.stream:
            loop, deltas = asyncio.get_running_loop(), asyncio.Queue()
            job.on_delta = lambda index, delta: loop.call_soon_threadsafe(deltas.put_nowait,
                                                                          (index, delta))
            future = asyncio.wrap_future(server.submit(job))
            return StreamingResponse(_events(server, request, plan, head, arrived, future,
                                             deltas), media_type="text/event-stream")
        future = asyncio.wrap_future(server.submit(job))
        answers = await _unless_gone(future, http, job)
        extension = await run_in_threadpool(server.finish, request, plan, answers)
        metrics.latency.observe(time.monotonic() - arrived)
        metrics.requests.labels("ok").inc()
        return {**head, "object": "chat.completion",
                "choices": [{"index": i, "finish_reason": a.finish_reason, "logprobs": None,
                             "message": {"role": "assistant", "content": a.text}}
                            for i, a in enumerate(answers)],
                "usage": _usage(job, answers), **extension}

    return app


async def _unless_gone(future: asyncio.Future, http: Request, job: Job) -> list[Completion]:
    """The job's answers; cancels the job when the client disconnects first."""
    while True:
        done, _ = await asyncio.wait({future}, timeout=0.25)
        if done:
            return future.result()
        if await http.is_disconnected():
            job.cancel.set()
            try:
                return await future
            except Cancelled:
                raise RequestError("body", "client disconnected", status=499) from None


def _usage(job: Job, answers: Sequence[Completion]) -> dict[str, int]:
    prompt = len(job.tokens)
    completion = sum(a.tokens for a in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _sse(payload: dict | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


async def _events(server: Server, request: ChatRequest, plan: dict, head: dict,
                  arrived: float, future: asyncio.Future,
                  deltas: asyncio.Queue) -> AsyncIterator[str]:
    """OpenAI's chunk stream: each answer's role, its content deltas as drawn (from
    ``deltas``), and its finish reason (the last of these chunks also carries the extension
    fields), then the usage chunk (``choices: []``) when ``stream_options.include_usage`` asks
    for it, then ``[DONE]``. A client that goes away cancels the job."""
    chunk = {**head, "object": "chat.completion.chunk"}
    job = plan["job"]
    try:
        for i in range(request.n):
            yield _sse({**chunk, "choices": [{"index": i, "delta": {"role": "assistant",
                                                                    "content": ""},
                                              "logprobs": None, "finish_reason": None}]})
        while not (future.done() and deltas.empty()):
            getter = asyncio.ensure_future(deltas.get())
            await asyncio.wait({getter, future}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                index, delta = getter.result()
                yield _sse({**chunk, "choices": [{"index": index, "delta": {"content": delta},
                                                  "logprobs": None, "finish_reason": None}]})
            else:
                getter.cancel()
        try:
            answers = future.result()
            extension = await run_in_threadpool(server.finish, request, plan, answers)
        except Exception as err:  # the status line has gone out: report in the stream
            server.metrics.requests.labels("error").inc()
            yield _sse({"error": {"message": f"server error: {type(err).__name__}: {err}",
                                  "type": "server_error", "param": None, "code": None}})
            return
        for i, answer in enumerate(answers):
            last = i == len(answers) - 1
            yield _sse({**chunk, "choices": [{"index": i, "delta": {}, "logprobs": None,
                                              "finish_reason": answer.finish_reason}],
                        **(extension if last else {})})
        if request.stream_options and request.stream_options.include_usage:
            yield _sse({**chunk, "choices": [], "usage": _usage(job, answers)})
        yield _sse("[DONE]")
        server.metrics.latency.observe(time.monotonic() - arrived)
        server.metrics.requests.labels("ok").inc()
    finally:
        if not future.done():
            job.cancel.set()
            server.metrics.requests.labels("cancelled").inc()
