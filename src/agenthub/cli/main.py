"""`agenthub serve` runs the server; `agenthub migrate` only applies migrations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from agenthub import __version__
from agenthub.cli.env_help import all_settings_classes, epilog
from agenthub.core.errors import StorageUnavailable
from agenthub.protocols.registry import available
from agenthub.schema import project_schema
from agenthub.server import logs
from agenthub.server.runner import serve
from agenthub.server.runtime import ConfigurationError
from agenthub.server.settings import Settings, StorageSettings
from agenthub.storage import Database
from agenthub.storage.migrate import migrate

# What a start can fail on that the user can mend: each is printed as one line, without a traceback.
STARTUP_ERRORS = (ConfigurationError, ValueError, OSError, StorageUnavailable)


def _serve(_args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        logs.configure(settings.server.log_format, settings.server.log_level)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(serve(settings))
    except STARTUP_ERRORS as exc:
        print(f"agenthub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def load_settings() -> Settings:
    """Every setting of the server and of each protocol, read now so that a bad value stops the start."""
    settings = Settings()
    for spec in available().values():
        settings.protocol(spec.name, spec.settings)
    return settings


def _loop_factory() -> Any:
    """uvloop when installed (it comes with uvicorn[standard]); the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _migrate(_args: argparse.Namespace) -> int:
    async def run() -> None:
        db = Database(Settings().storage.database_url)
        try:
            await migrate(db, project_schema())
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except STARTUP_ERRORS as exc:
        print(f"agenthub: {exc}", file=sys.stderr)
        return 2
    print("agenthub: database is up to date")
    return 0


RAW: dict[str, Any] = {"formatter_class": argparse.RawDescriptionHelpFormatter}
AGENT_ENV = (
    "environment variables: none of the server's AGENTHUB_* settings; every option above has its default "
    "in its help, and an option that may come from the environment names its variable there."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agenthub",
        description=__doc__,
        epilog="`agenthub <command> --help` lists the command's options and environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"agenthub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_help = "run every protocol on its port"
    commands.add_parser(
        "serve", help=serve_help, description=serve_help, epilog=epilog(all_settings_classes()), **RAW
    ).set_defaults(run=_serve)
    migrate_help = "apply database migrations and exit"
    commands.add_parser(
        "migrate", help=migrate_help, description=migrate_help, epilog=epilog([StorageSettings]), **RAW
    ).set_defaults(run=_migrate)
    agent = commands.add_parser("agent", help="run a simulated agent of one protocol", epilog=AGENT_ENV)
    protocols = agent.add_subparsers(dest="protocol", required=True)
    for spec in available().values():
        if spec.agent is not None:
            sub = protocols.add_parser(
                spec.name, help=spec.agent.help, description=spec.agent.help, epilog=AGENT_ENV
            )
            spec.agent.configure(sub)
            sub.set_defaults(run=spec.agent.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
