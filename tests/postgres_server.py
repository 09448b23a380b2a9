"""A throwaway PostgreSQL cluster in a temporary folder, for the DuckLake catalog in tests.

Debian's ``postgresql`` package ships ``initdb`` and ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin``; :class:`PostgresServer` creates a cluster there with
trust authentication, listening on 127.0.0.1 at a free port, and removes it when stopped.
PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user the
package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "capex"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed (or cannot run here)."""


def server_binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql (.ci/run does it)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One cluster: :meth:`start`, :meth:`stop` (optionally abruptly), :meth:`remove`."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="capex-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._run_as = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and there is no postgres user") from exc
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._run_as = "postgres"
        self._command(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )

    def _command(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if self._run_as:
            args = ["runuser", "-u", self._run_as, "--", *args]
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(args)} failed: {result.stdout}{result.stderr}{log[-2000:]}"
            )
        return result

    def start(self) -> None:
        """Start (or restart) the server on its port; waits until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={self.host} -c fsync=off"
        self._command(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.log),
                "-w",
                "-t",
                "120",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash (no shutdown checkpoint)."""
        self._command(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
            check=False,
        )

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its DuckLake catalog string (CAPEX_CATALOG)."""
        self._command(
            [str(self.bin / "createdb"), "-h", self.host, "-p", str(self.port), "-U", USER, name]
        )
        return self.catalog(name)

    def catalog(self, name: str) -> str:
        """The CAPEX_CATALOG value for database ``name`` on this server."""
        return f"postgres:dbname={name} host={self.host} port={self.port} user={USER}"

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
