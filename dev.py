#!/usr/bin/env python3
"""Set up capex-watch in ./.venv and run it: needs nothing but python3 (3.11+).

    python3 dev.py run [capex run options]   set up, then run the main job (`capex run`)
    python3 dev.py test [pytest options]     set up with the test tools, then run the tests
    python3 dev.py demo                      set up, then run the main job against the recorded
                                             SEC documents in ../shared (no network needed)
    python3 dev.py ui                        set up, then start the Dagster UI
    python3 dev.py setup                     only set up

Set-up is skipped when pyproject.toml has not changed since the last one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def setup(extras: str = "dev") -> None:
    """Create .venv and install the project (editable) with ``extras``, when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py runs under any python3)
        sys.exit(f"capex-watch needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / ".capex-setup"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing capex-watch and its dependencies (first run: a minute or two)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f".[{extras}]"], check=True, cwd=ROOT)
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    if command not in {"setup", "run", "test", "demo", "ui"}:
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    setup()
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if command == "setup":
        return 0
    if command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    elif command == "demo":
        args = [str(BIN / "python"), "-m", "tests.demo", *rest]
    else:
        args = [str(BIN / "capex"), command, *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
