"""``python -m koban.fakes.slack --port 8098 --signing-secret S --interactivity-url URL``"""

from __future__ import annotations

import argparse

from aiohttp import web

from koban.fakes.lifeline import exit_with_parent
from koban.fakes.slack.server import FakeSlack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Slack Web API, incoming webhooks and clicks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--signing-secret", default="fake-signing-secret")
    parser.add_argument("--interactivity-url", default=None, help="where button clicks are POSTed")
    parser.add_argument("--token", default=None, help="accept only this bot token (default: any)")
    parser.add_argument("--exit-with-parent", type=int, help="end when the process with this PID is gone")
    args = parser.parse_args(argv)
    exit_with_parent(args.exit_with_parent)
    fake = FakeSlack(
        signing_secret=args.signing_secret,
        interactivity_url=args.interactivity_url,
        token=args.token,
        host=args.host,
        port=args.port,
    )
    web.run_app(fake.app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
