"""`cardiolens serve-reader`: the reference reader as a loopback OpenAI-compatible API."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cardiolens.cli.common import int_at_least


def run(args: argparse.Namespace) -> int:
    from cardiolens.reader.server import make_server

    server = make_server(args.host, args.port)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"reference reader on http://{host}:{port}/v1/chat/completions (Ctrl-C stops)",
          file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    serve = sub.add_parser(
        "serve-reader", help="serve the reference reader as a local OpenAI-compatible API",
        description="Serve the offline reference reader (the cardiolens/reader model) at "
                    "/v1/chat/completions for lm-eval's local-chat-completions. Loopback "
                    "addresses only; request bodies are capped at 32 MB.")
    serve.add_argument("--port", type=int_at_least(0, "a TCP port in [0, 65535]", 65535),
                       default=8000,
                       help="TCP port (default: 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="loopback address to bind (default: 127.0.0.1)")
    serve.set_defaults(func=run)
