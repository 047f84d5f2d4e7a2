"""What an agent syncs from, made locally: models over HTTP (Range, for resumes) and git repositories."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class ModelServer:
    files: dict[str, bytes]
    url: str = ""
    ranges: list[str] = field(default_factory=list)

    def item(self, name: str, *, sha256: str | None = None, dest_path: str | None = None) -> dict[str, Any]:
        data = self.files[name]
        item = {
            "name": name,
            "url": f"{self.url}/{name}",
            "sha256": sha256 or hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        if dest_path:
            item["dest_path"] = dest_path
        return item


@contextmanager
def model_server(files: dict[str, bytes]) -> Iterator[ModelServer]:
    server_state = ModelServer(files)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = files.get(self.path.lstrip("/"))
            if data is None:
                self.send_error(404)
                return
            start = 0
            header = self.headers.get("Range")
            if header and header.startswith("bytes=") and header.endswith("-"):
                server_state.ranges.append(header)
                start = int(header[len("bytes=") : -1])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()


def git_repo(path: Path, files: dict[str, str]) -> str:
    """A local repository with one commit of the given files; returns the commit's sha."""
    path.mkdir(parents=True)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "--quiet")
    for name, text in files.items():
        (path / name).write_text(text)
    git("add", ".")
    git("commit", "--quiet", "-m", "initial")
    return git("rev-parse", "HEAD")
