"""`agenthub <command> --help` lists the options and the environment variables with their defaults, read
from the settings classes (server, storage, auth, engine, every registered protocol)."""

from __future__ import annotations

import pytest

from agenthub.cli.env_help import variables
from agenthub.cli.main import main
from agenthub.protocols.registry import available
from agenthub.server.settings import EngineSettings


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def row(text: str, name: str) -> str:
    """The default shown after the variable's name."""
    [line] = [line for line in text.splitlines() if line.strip().startswith(name + " ")]
    return line.split(name, 1)[1].strip()


def test_serve_help_lists_every_variable_with_its_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTHUB_JWT_SECRET", "do-not-print-me-" + "x" * 32)
    monkeypatch.setenv("AGENTHUB_COMFYUI_ADMIN_KEY", "admin-key-not-shown")
    text = help_of(capsys, "serve")
    assert "-h, --help" in text
    assert row(text, "AGENTHUB_DATABASE_URL") == "sqlite:///./agenthub.db"
    assert row(text, "AGENTHUB_LOG_FORMAT") == "text"
    assert row(text, "AGENTHUB_LOG_LEVEL") == "info"
    assert row(text, "AGENTHUB_REDIS_URL") == "unset"
    assert row(text, "AGENTHUB_RETRY_BACKOFF") == "{}"
    assert row(text, "AGENTHUB_JWT_SECRET") == "(secret) generated in development"
    assert row(text, "AGENTHUB_COMFYUI_ADMIN_KEY") == "(secret) generated in development"
    assert row(text, "AGENTHUB_SUPER_USERNAME or AGENTHUB_OAS_SUPER_USERNAME") == "admin"
    assert row(text, "AGENTHUB_SUPER_PASSWORD or AGENTHUB_OAS_SUPER_PASSWORD") == (
        "(secret) generated at first start (printed once)"
    )
    assert row(text, "AGENTHUB_OAS_SCAN_COOLDOWNS") == "[0, 180, 600, 1800, 3600]"
    assert row(text, "AGENT_DEBUG_TOKENS") == "unset"
    for spec in available().values():
        port = spec.settings.model_fields["port"].default
        assert row(text, f"AGENTHUB_{spec.name.upper()}_PORT") == str(port)
    for name, _default in variables(EngineSettings):
        assert name in text
    assert "do-not-print-me" not in text and "admin-key-not-shown" not in text


def test_migrate_and_agent_commands_say_what_they_read(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "migrate")
    assert row(text, "AGENTHUB_DATABASE_URL") == "sqlite:///./agenthub.db"
    assert "AGENTHUB_OAS_PORT" not in text
    for spec in available().values():
        if spec.agent is not None:
            text = help_of(capsys, "agent", spec.name)
            assert "options:" in text and "environment variables" in text
