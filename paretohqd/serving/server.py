"""``paretohqd serve``: a finished run behind an OpenAI-compatible HTTP API, the preference
chosen per request, and a page to try it.

    GET  /                      the page: a prompt, a slider (a triangle for three objectives)
    GET  /v1/models             every served method, its objectives and trained preferences
    POST /v1/chat/completions   OpenAI's chat completions, plus ``preference``, ``interpolate``
                                and ``score`` (the official client passes them in extra_body)

Errors have OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``) with status
400 and a message naming the field. The models live in a ``ModelPool``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from importlib import resources
from typing import Any, AsyncIterator, Literal, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from paretohqd.io import DataError
from paretohqd.policy.generation import SamplingSettings
from paretohqd.serving.interpolation import PreferenceError, check_preference, realised
from paretohqd.serving.model_pool import ModelPool
from paretohqd.serving.streaming import DeltaStreamer

MAX_N = 16  # answers per request
# OpenAI fields accepted only at the value that changes nothing
ONLY_DEFAULT = {"frequency_penalty", "presence_penalty", "logprobs", "stop"}


class RequestError(ValueError):
    """A request the server cannot serve; ``param`` names the field."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str | list[TextPart]

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(
            part.text for part in self.content)


class ChatRequest(BaseModel):
    """OpenAI's chat completion request as far as this server honours it, plus the
    preference; an unknown field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(default=None, gt=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1, le=MAX_N)
    seed: int | None = None
    stream: bool = False
    stream_options: dict[str, bool] | None = None
    user: str | None = None
    # accepted at the values that change nothing
    frequency_penalty: Literal[0] | None = None
    presence_penalty: Literal[0] | None = None
    logprobs: Literal[False] | None = None
    stop: None = None
    # the extensions
    preference: dict[str, float] | list[float] | None = None
    interpolate: bool | None = None
    score: bool = False


def openai_error(status: int, message: str, param: str | None,
                 kind: str = "invalid_request_error") -> JSONResponse:
    """OpenAI's error body."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": None}}, status_code=status)


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


class Server:
    """What the routes share: the pool and the run's choices."""

    def __init__(self, pool: ModelPool, methods: Sequence[str], seed: int | None,
                 interpolate: bool, defaults: SamplingSettings) -> None:
        unknown = sorted(set(methods) - set(pool.served.index["methods"]))
        if unknown:
            raise DataError(f"method(s) {unknown}: not in {pool.served.results}; it has "
                            f"{sorted(pool.served.index['methods'])}")
        self.pool, self.methods, self.interpolate, self.defaults = (pool, list(methods),
                                                                    interpolate, defaults)
        self.seed = pool.served.adapters(self.methods[0], seed)[0]
        self.created = int(time.time())

    @property
    def objectives(self) -> list[str]:
        return self.pool.served.objectives

    def models(self) -> dict:
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": self.created, "owned_by": "paretohqd",
             "objectives": self.objectives, "seed": self.seed,
             "interpolate": self.interpolate,
             "preferences": [w for _, w in sorted(
                 self.pool.served.trained_preferences(name).items())]}
            for name in self.methods]}

    def plan(self, request: ChatRequest) -> dict:
        """Everything a request needs before the models run, checked (``RequestError``)."""
        if request.model not in self.methods:
            raise RequestError("model", f"model: unknown method {request.model!r}; this server "
                                        f"serves {self.methods}")
        preference = resolve_preference(request.preference, self.objectives)
        interpolate = self.interpolate if request.interpolate is None else request.interpolate
        _, chosen = self.pool.served.choose(preference, request.model, self.seed, interpolate)
        if self.pool.served.prompt_format == "chat":
            prompt: str | list[dict] = [{"role": m.role, "content": m.text()}
                                        for m in request.messages]
        elif len(request.messages) == 1 and request.messages[0].role == "user":
            prompt = request.messages[0].text()
        else:
            raise RequestError("messages", "messages: this run's model reads raw text "
                                           "(prompt_format raw), so send one user message "
                                           "holding the whole prompt")
        max_tokens = (request.max_completion_tokens or request.max_tokens
                      or self.defaults.max_new_tokens)
        tokens = self.pool.encode(prompt)
        context = self.pool.context
        if context is not None and len(tokens) + max_tokens > context:
            raise RequestError("messages", f"messages: the prompt is {len(tokens)} tokens and "
                                           f"max_tokens {max_tokens}; together they exceed the "
                                           f"model's context of {context} tokens")
        users = [m.text() for m in request.messages if m.role == "user"]
        settings = SamplingSettings(
            temperature=request.temperature or self.defaults.temperature,
            top_p=request.top_p or self.defaults.top_p, max_new_tokens=max_tokens,
            batch_size=request.n, seed=self.defaults.seed if request.seed is None else request.seed)
        adapters = [{"pref_id": a["pref_id"], "weights": a["weights"],
                     "merge_weight": a["merge_weight"]} for a in chosen]
        reached = realised([(a["pref_id"], a["merge_weight"]) for a in chosen],
                           {a["pref_id"]: a["weights"] for a in chosen})
        key = (request.model, self.seed,
               tuple((a["pref_id"], round(a["merge_weight"], 12)) for a in chosen))
        return {"chosen": chosen, "tokens": tokens, "settings": settings, "key": key,
                "scored_prompt": users[-1] if users else "",
                "extension": {"preference": dict(zip(self.objectives, preference)),
                              "realised_preference": dict(zip(self.objectives, reached)),
                              "interpolate": interpolate, "training_seed": self.seed,
                              "adapters": adapters}}

    def finish(self, request: ChatRequest, plan: dict, texts: Sequence[str]) -> dict:
        """The response's extension fields, with the rewards when asked."""
        extension = dict(plan["extension"])
        if request.score:
            extension["rewards"] = self.pool.score(plan["scored_prompt"], texts)
        return extension


def create_app(server: Server) -> FastAPI:
    """The ASGI app serving ``server``."""
    app = FastAPI(title="ParetoHqD", summary="A run's models, the preference per request")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        field = _field(first["loc"])
        message = ("not supported by this server"
                   if first["type"] == "extra_forbidden" or field in ONLY_DEFAULT
                   else first["msg"])
        return openai_error(400, f"{field}: {message}", field)

    @app.exception_handler(RequestError)
    async def bad_request(_: Request, err: RequestError) -> JSONResponse:
        return openai_error(400, str(err), err.param)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return resources.files("paretohqd.serving").joinpath("page.html").read_text("utf-8")

    @app.get("/v1/models")
    async def models() -> dict:
        return server.models()

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest):
        plan = await run_in_threadpool(server.plan, request)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        head = {"id": ident, "created": created, "model": request.model}
        if request.stream:
            return StreamingResponse(_events(server, request, plan, head),
                                     media_type="text/event-stream")
        answers = await run_in_threadpool(server.pool.complete, plan["key"], plan["chosen"],
                                          plan["tokens"], request.n, plan["settings"])
        extension = await run_in_threadpool(server.finish, request, plan,
                                            [a.text for a in answers])
        return {**head, "object": "chat.completion",
                "choices": [{"index": i, "finish_reason": a.finish_reason, "logprobs": None,
                             "message": {"role": "assistant", "content": a.text}}
                            for i, a in enumerate(answers)],
                "usage": _usage(plan, answers), **extension}

    return app


def _usage(plan: dict, answers) -> dict[str, int]:
    prompt = len(plan["tokens"])
    completion = sum(a.tokens for a in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _sse(payload: dict | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


async def _events(server: Server, request: ChatRequest, plan: dict,
                  head: dict) -> AsyncIterator[str]:
    """OpenAI's chunk stream: the role, the content deltas as drawn, each choice's finish
    reason, then a last chunk with the extension fields (and the usage when asked), then
    ``[DONE]``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    chunk = {**head, "object": "chat.completion.chunk"}

    def emit(index: int, delta: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (index, delta))

    def work():
        streamer = DeltaStreamer(server.pool.tokenizer, request.n, server.pool.stop_ids, emit)
        answers = server.pool.complete(plan["key"], plan["chosen"], plan["tokens"], request.n,
                                       plan["settings"], streamer)
        return answers, server.finish(request, plan, [a.text for a in answers])

    task = asyncio.ensure_future(run_in_threadpool(work))
    for i in range(request.n):
        yield _sse({**chunk, "choices": [{"index": i, "delta": {"role": "assistant",
                                                                "content": ""},
                                          "finish_reason": None}]})
    while not (task.done() and queue.empty()):
        getter = asyncio.ensure_future(queue.get())
        await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            index, delta = getter.result()
            yield _sse({**chunk, "choices": [{"index": index, "delta": {"content": delta},
                                              "finish_reason": None}]})
        else:
            getter.cancel()
    try:
        answers, extension = task.result()
    except Exception as err:  # the status line has gone out: report in the stream
        yield _sse({"error": {"message": str(err), "type": "server_error", "param": None,
                              "code": None}})
        return
    for i, answer in enumerate(answers):
        yield _sse({**chunk, "choices": [{"index": i, "delta": {},
                                          "finish_reason": answer.finish_reason}]})
    last = {**chunk, "choices": [], **extension}
    if (request.stream_options or {}).get("include_usage"):
        last["usage"] = _usage(plan, answers)
    yield _sse(last)
    yield _sse("[DONE]")
