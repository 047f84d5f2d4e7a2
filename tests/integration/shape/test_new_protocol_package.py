"""Adding a protocol needs its package and one registry line, nothing else: a throwaway protocol package,
written to a temporary folder (spec, one route, one table, one migration, an agent command), is registered,
migrated and served, and the CLI offers its agent."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agenthub.cli.main import build_parser
from agenthub.core.clock import ManualClock
from agenthub.protocols import registry
from agenthub.server.runner import running
from agenthub.server.settings import Settings
from agenthub.server.startup import open_runtime
from agenthub.storage.tables import metadata

FILES = {
    "__init__.py": '"""A throwaway protocol."""\n',
    "settings.py": """
        from pydantic_settings import SettingsConfigDict

        from agenthub.server.settings import ProtocolSettings


        class HelloSettings(ProtocolSettings):
            model_config = SettingsConfigDict(env_prefix="AGENTHUB_HELLO_", extra="ignore")

            port: int = 9999
            greeting: str = "hello"
    """,
    "tables.py": """
        import sqlalchemy as sa

        from agenthub.storage.tables import metadata

        greetings = sa.Table(
            "hello_greetings",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(64), nullable=False),
        )
    """,
    "migrations/0901_hello.py": """
        import sqlalchemy as sa
        from alembic import op

        revision = "0901_hello"
        down_revision = "0001_engine"
        branch_labels = ("hello",)
        depends_on = None


        def upgrade() -> None:
            op.create_table(
                "hello_greetings",
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("name", sa.String(64), nullable=False),
            )


        def downgrade() -> None:
            op.drop_table("hello_greetings")
    """,
    "spec.py": """
        from dataclasses import dataclass
        from pathlib import Path

        import sqlalchemy as sa
        from fastapi import FastAPI

        from agenthub.server.protocol import AgentCommand, ProtocolSpec
        from agenthub.server.runtime import Runtime
        from hello_proto.settings import HelloSettings
        from hello_proto.tables import greetings


        @dataclass
        class Hello:
            runtime: Runtime
            settings: HelloSettings


        async def build(runtime: Runtime, settings: HelloSettings) -> Hello:
            return Hello(runtime, settings)


        def create_app(hello: Hello) -> FastAPI:
            app = FastAPI()

            @app.post("/greet/{name}")
            async def greet(name: str) -> dict[str, object]:
                async with hello.runtime.db.write() as conn:
                    await conn.execute(greetings.insert().values(name=name))
                query = sa.select(sa.func.count()).select_from(greetings)
                async with hello.runtime.db.read() as conn:
                    count = (await conn.execute(query)).scalar_one()
                return {"text": f"{hello.settings.greeting}, {name}", "greeted": count}

            return app


        SPEC = ProtocolSpec(
            name="hello",
            settings=HelloSettings,
            tables=(greetings,),
            migrations=Path(__file__).parent / "migrations",
            build=build,
            create_app=create_app,
            agent=AgentCommand(help="say hello", configure=lambda parser: None, run=lambda args: 0),
        )
    """,
}


@pytest.fixture
def hello_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, text in FILES.items():
        path = tmp_path / "hello_proto" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    from hello_proto.spec import SPEC  # type: ignore[import-not-found]

    monkeypatch.setattr(registry, "PROTOCOLS", (*registry.PROTOCOLS, SPEC))  # the one registry line
    try:
        yield SPEC
    finally:
        metadata.remove(metadata.tables["hello_greetings"])
        for module in [m for m in sys.modules if m == "hello_proto" or m.startswith("hello_proto.")]:
            del sys.modules[module]


async def test_a_new_package_and_one_registry_line_are_enough(
    hello_package: Any, settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHUB_HELLO_GREETING", "ni hao")
    async with (
        open_runtime(settings, clock=clock) as runtime,  # migrates the new branch too
        running(runtime, [hello_package], host="127.0.0.1", ports={"hello": 0}) as listeners,
        httpx.AsyncClient(base_url=listeners.urls["hello"]) as http,
    ):
        first = await http.post("/greet/mai")
        second = await http.post("/greet/oas")
    assert first.json() == {"text": "ni hao, mai", "greeted": 1}
    assert second.json() == {"text": "ni hao, oas", "greeted": 2}
    args = build_parser().parse_args(["agent", "hello"])
    assert args.run(args) == 0
