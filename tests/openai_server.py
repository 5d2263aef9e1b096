"""A scripted OpenAI-compatible chat server on 127.0.0.1, so LLM code is tested over real HTTP.

    with FakeOpenAI() as server:
        server.reply(lambda request: '{"chapters": []}')   # or a fixed text, or HTTPFailure(...)
        settings = Settings(openai_base_url=server.base_url, openai_api_key="test", ...)
        ...
        server.requests        # the JSON bodies received, in order
        server.prompt(0)       # the first request's message texts, joined

`POST /v1/chat/completions` answers with a `chat.completion` object, or with `"stream": true`
as `text/event-stream` chunks (one per word of the reply) ending with `data: [DONE]`. A request
with a `response_format` gets the reply text as its content, as a real server would send JSON that
fits the schema; `refuse_structured_output` makes the server answer those with HTTP 400 instead,
like servers without structured output.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class HTTPFailure:
    """A scripted error answer: the status and the message of an OpenAI-style error body."""

    status: int
    message: str = "scripted failure"


Script = Callable[[dict], "str | HTTPFailure"]


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.refuse_structured_output = False
        self._script: Script = lambda request: ""
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll keeps shutdown, and so each test's teardown, quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as its base URL."""
        return self.url + "/v1"

    def reply(self, script: Script | str | HTTPFailure) -> None:
        """Answer every later request with `script(request_json)`, or with a fixed text or failure."""
        self._script = script if callable(script) else (lambda request: script)

    def fail(self, status: int, message: str = "scripted failure") -> None:
        self.reply(HTTPFailure(status, message))

    def prompt(self, index: int) -> str:
        """The text of every message in request `index`, joined by blank lines."""
        return "\n\n".join(_message_text(m) for m in self.requests[index].get("messages", []))

    def answer(self, request: dict) -> str | HTTPFailure:
        with self._lock:
            self.requests.append(request)
        if self.refuse_structured_output and "response_format" in request:
            return HTTPFailure(400, "response_format is not supported by this server")
        return self._script(request)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as the OpenAI client expects

        def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send_json(400, _error_body("request body is not JSON"))
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, _error_body(f"no route {self.path}"))
                return
            try:
                answer = server.answer(request)
            except Exception as exc:  # a broken script shows up as a 500 the test can read
                answer = HTTPFailure(500, f"script raised {exc!r}")
            if isinstance(answer, HTTPFailure):
                self._send_json(answer.status, _error_body(answer.message))
            elif request.get("stream"):
                self._send_stream(request, answer)
            else:
                self._send_json(200, _completion(request, answer))

        def _send_json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, request: dict, text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in _stream_chunks(request, text):
                self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
            self._write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output is for failures."""

    return Handler


def _error_body(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _usage(request: dict, text: str) -> dict:
    prompt = sum(len(_message_text(m).split()) for m in request.get("messages", []))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(request: dict, text: str) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(request, text),
    }


def _stream_chunks(request: dict, text: str) -> Iterator[dict]:
    """`chat.completion.chunk` objects: the role, the text a word at a time, the stop, and the
    usage when the client asked for it."""
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": request.get("model", "")}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in re.findall(r"\s*\S+\s*", text) or [text]:
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(request, text)}
