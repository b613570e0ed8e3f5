"""``cardiolens serve-reader``: the reference reader behind a minimal OpenAI-compatible
``/v1/chat/completions`` endpoint, for lm-eval's ``local-chat-completions``.

The endpoint answers with any function of the request's parts (texts and image bytes in
order, see :func:`chat_parts`); the reader's is the default, so other local models can be
served the same way (``make_server(answer=..., model_name=...)``).

Loopback only (the reader needs no network and should not be exposed); request bodies are
capped at :data:`MAX_BODY` bytes; every error is a JSON ``{"error": {"message": ...}}``.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cardiolens.errors import CardiolensError
from cardiolens.reader.reader import answer_parts
from cardiolens.reader.request import Part, decode_data_uri

MAX_BODY = 32 * 1024 * 1024
MODEL_NAME = "cardiolens-reader"
Answer = Callable[[list[Part]], str]


def chat_parts(body: dict[str, Any]) -> list[Part]:
    """Text and image bytes of an OpenAI chat request's user messages, in order."""
    parts: list[Part] = []
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ValueError("'messages' must be a list")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "image_url":
                    url = (part.get("image_url") or {}).get("url", "")
                    data = decode_data_uri(url) if isinstance(url, str) else None
                    parts.append(data if data is not None else b"")
    return parts


def completion(answer: str, model: str) -> dict[str, Any]:
    return {"id": "chatcmpl-cardiolens-reader", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": max(1, len(answer) // 4),
                      "total_tokens": max(1, len(answer) // 4)}}


class ReaderHandler(BaseHTTPRequestHandler):
    server_version = "cardiolens-reader"
    answer: Answer = staticmethod(answer_parts)
    model_name = MODEL_NAME

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list",
                             "data": [{"id": self.model_name, "object": "model"}]})
        else:
            self._error(404, f"unknown path {self.path}")

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"unknown path {self.path}; use /v1/chat/completions")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(411, "a Content-Length header is required")
            return
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._error(413, f"request body over {MAX_BODY} bytes")
            return
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            parts = chat_parts(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self._error(400, f"bad request: {exc}")
            return
        self._send(200, completion(self.answer(parts), str(body.get("model") or self.model_name)))

    def log_message(self, format: str, *args: Any) -> None:
        return


def check_loopback(host: str) -> None:
    """Raise CardiolensError unless every address of ``host`` is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise CardiolensError(f"cannot resolve host {host!r}: {exc}") from None
    for info in infos:
        if not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback:
            raise CardiolensError(f"host {host!r} is not a loopback address; the reader "
                                  "only serves 127.0.0.1, ::1 or localhost")


def make_server(host: str = "127.0.0.1", port: int = 8000, answer: Answer = answer_parts,
                model_name: str = MODEL_NAME) -> ThreadingHTTPServer:
    """A bound (not yet serving) server on a loopback address.

    Args:
        host: a loopback host (anything else is refused).
        port: the port; 0 picks a free one.
        answer: the reply to a request's parts (default: the reference reader).
        model_name: the model id ``/v1/models`` lists and replies carry by default.
    """
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    handler = type("Handler", (ReaderHandler,), {"answer": staticmethod(answer),
                                                 "model_name": model_name})

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

    try:
        return Server((host, port), handler)
    except OSError as exc:
        raise CardiolensError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
