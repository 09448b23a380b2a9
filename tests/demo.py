"""Demo: the main job against the recorded SEC documents, with no network.

Serves ../shared/fixtures (SEC documents under SEC's URL layout, see tests/sec_server.py) on
127.0.0.1, points capex-watch at it and at the recorded price files, and runs ``capex run``
into the default raw/ and warehouse/ folders, so that ``capex sql`` and ``capex ui`` show the
result afterwards. Used by ``python3 dev.py demo``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import zipfile

from pytest_httpserver import HTTPServer

from tests.conftest import ROOT, SHARED_FIXTURES, USER_AGENT
from tests.sec_server import FakeSec


def main(argv: list[str]) -> int:
    if not (SHARED_FIXTURES / "SOURCES.md").is_file():
        print(f"the demo serves the recorded documents in {SHARED_FIXTURES}, which is absent")
        return 2
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FakeSec(SHARED_FIXTURES / "sec")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(
            ROOT / "tests" / "fixtures" / "news" / "eurofxref-hist.csv", "eurofxref-hist.csv"
        )
    app.extra["/ecb/eurofxref-hist.zip"] = buffer.getvalue()
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/.*")).respond_with_handler(app)
    server.start()
    base = server.url_for("").rstrip("/")
    env = dict(
        os.environ,
        SEC_USER_AGENT=os.environ.get("SEC_USER_AGENT", USER_AGENT),
        CAPEX_SEC_DATA_URL=base,
        CAPEX_SEC_WWW_URL=base,
        CAPEX_FX_URL=f"{base}/ecb",
        CAPEX_PRICES_DIR=str(SHARED_FIXTURES / "prices"),
    )
    print(f"demo: recorded SEC documents served at {base}", flush=True)
    try:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run", *argv], env=env, cwd=ROOT
        ).returncode
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
