"""`agenthub serve` as a user runs it: migrates a fresh SQLite file, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.services import require_postgres


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_on_sqlite_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "AGENTHUB_DATABASE_URL": f"sqlite:///{tmp_path}/agenthub.db",
        "AGENTHUB_PROTOCOLS": "oas",
        "AGENTHUB_OAS_PORT": str(port),
        "AGENTHUB_LOG_LEVEL": "warning",
    }
    env.pop("AGENTHUB_SUPER_PASSWORD", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "agenthub.cli.main", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.json() == {"status": "ok", "redis": "disabled", "db": "up"}
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "created super admin 'admin' with password" in output
    assert f"oas listening on http://127.0.0.1:{port}" in output
    assert (tmp_path / "agenthub.db").exists()


def test_production_without_a_jwt_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AGENTHUB_DATABASE_URL": f"sqlite:///{tmp_path}/agenthub.db",
        "AGENTHUB_ENV": "production",
        "AGENTHUB_PROTOCOLS": "oas",
        "AGENTHUB_OAS_PORT": str(free_port()),
    }
    env.pop("AGENTHUB_JWT_SECRET", None)
    result = subprocess.run(
        [sys.executable, "-m", "agenthub.cli.main", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "AGENTHUB_JWT_SECRET must be set" in result.stderr


def serve_once(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENTHUB_DATABASE_URL": f"sqlite:///{tmp_path}/agenthub.db",
        "AGENTHUB_PROTOCOLS": "oas",
        "AGENTHUB_OAS_PORT": str(free_port()),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "agenthub.cli.main", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("agenthub:")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_a_bad_port_value_is_one_line(tmp_path: Path) -> None:
    result = serve_once(tmp_path, AGENTHUB_OAS_PORT="abc")
    assert_one_line(result, "AGENTHUB_OAS_PORT='abc'", "integer")


def test_an_unsupported_database_is_one_line(tmp_path: Path) -> None:
    result = serve_once(tmp_path, AGENTHUB_DATABASE_URL="mysql://root@127.0.0.1/agenthub")
    assert_one_line(result, "AGENTHUB_DATABASE_URL", "'mysql' is not supported")


def test_a_missing_postgres_database_is_one_line(tmp_path: Path) -> None:
    url = require_postgres().rpartition("/")[0] + "/agenthub_no_such_database"
    result = serve_once(tmp_path, AGENTHUB_DATABASE_URL=url)
    assert_one_line(result, "cannot open the database", 'database "agenthub_no_such_database" does not exist')


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve_once(tmp_path, AGENTHUB_OAS_PORT=str(port))
    assert_one_line(result, f"oas: cannot listen on 127.0.0.1:{port}")


def test_production_checks_its_secrets_before_migrating(tmp_path: Path) -> None:
    result = serve_once(tmp_path, AGENTHUB_ENV="production", AGENTHUB_PROTOCOLS="oas,comfyui,iac")
    assert_one_line(
        result,
        "AGENTHUB_JWT_SECRET must be set",
        "AGENTHUB_COMFYUI_SIGNING_KEYS must be set",
        "AGENTHUB_IAC_ADMIN_KEY must be set",
    )
    assert not (tmp_path / "agenthub.db").exists()  # nothing was migrated
