"""Run the Twilio simulator.

``python -m koban.fakes.twilio --port 8098 --auth-token T --personas p.yaml --speed 10``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from koban.fakes.lifeline import exit_with_parent
from koban.fakes.twilio.personas import PersonaBook
from koban.fakes.twilio.simulator import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER, TwilioSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m koban.fakes.twilio", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8098, help="port to bind (default 8098; 0 = any free)")
    p.add_argument("--auth-token", default="sim-token", help="auth token the REST API accepts and signs with")
    p.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID, help="account SID the REST API accepts")
    p.add_argument("--personas", help="YAML persona file (see koban.fakes.twilio.personas)")
    p.add_argument("--speed", type=float, default=1.0, help="divide every simulated wait by this factor")
    p.add_argument("--sms-url", help="the app's inbound SMS webhook, for POST /_sim/sms/reply")
    p.add_argument("--number", default=DEFAULT_NUMBER, help="the account's own phone number (SMS replies)")
    p.add_argument("--exit-with-parent", type=int, help="end when the process with this PID is gone")
    args = p.parse_args(argv)
    if args.speed <= 0:
        p.error("--speed must be positive")
    return args


async def serve(args: argparse.Namespace) -> None:
    personas = PersonaBook.load(args.personas) if args.personas else PersonaBook.from_mapping(None)
    sim = TwilioSimulator(
        args.auth_token,
        account_sid=args.account_sid,
        personas=personas,
        speed=args.speed,
        host=args.host,
        port=args.port,
        sms_url=args.sms_url,
        number=args.number,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        print(f"twilio simulator listening on {sim.url} (account {sim.account_sid})", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    exit_with_parent(args.exit_with_parent)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
