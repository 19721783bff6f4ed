"""What the web page tests share: signing in, reading a page's chart specs and visible text, the
checks every page must pass, and serving the app on a free port for a real browser."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def login(api: Any, name: str) -> None:
    """Sign in as the test user ``name`` (password ``password-<name>``), forgetting any earlier session."""
    api.cookies.clear()
    api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"}, follow_redirects=False)


def charts(page: str) -> dict[str, dict]:
    """Every chart spec on a page, by id (the contract's JSON data blocks)."""
    found = {}
    for chart_id in re.findall(r'data-chart="([^"]+)"', page):
        block = re.search(rf'<script type="application/json" id="{re.escape(chart_id)}">(.*?)</script>', page, re.S)
        assert block, f"chart {chart_id} has no data block"
        found[chart_id] = json.loads(block.group(1))
    return found


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (no scripts, styles, drawings or tags)."""
    hidden = r"<script.*?</script>|<style.*?</style>|<svg.*?</svg>|<[^>]+>"
    return htmllib.unescape(re.sub(hidden, " ", page, flags=re.S))


def assert_clean(page: str) -> None:
    """No inline executable script or event handler, no Python repr (list, dict) in the text (drawings
    included), no nan or None shown."""
    for attrs in re.findall(r"<script([^>]*)>", page):
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline script: <script{attrs}>"
    assert not re.search(r"\son(input|click|change|load|submit)=", page), "inline event handler"
    assert not re.search(r"\son[a-z]+=\"", page), "inline event handler"
    text = htmllib.unescape(re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", page, flags=re.S))
    assert "{'" not in text and "['" not in text and not re.search(r"\[-?\d[\d.]*, -?\d", text), "raw Python repr"
    shown = visible_text(page).split()
    assert "nan" not in shown and "None" not in shown


@contextmanager
def serve(app: Any, wait_s: float = 20) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + wait_s
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
