"""Dagster resources: the settings, raw/ store and warehouse every asset works with."""

from __future__ import annotations

from functools import cached_property

import dagster as dg

from pipelines.core.config import Settings, load_settings, with_overrides
from pipelines.core.rawstore import RawStore
from pipelines.core.warehouse import Warehouse


class CapexResource(dg.ConfigurableResource):
    """Entry point to capex-watch's environment for assets.

    Settings come from the environment (see README), with the command line's overrides
    (``capex run --tickers/--since/--offline``) as resource config; assets ask this resource
    for them, for the raw/ store and for the warehouse instead of building their own.
    """

    tickers: str | None = None
    since: str | None = None
    offline: bool | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> CapexResource:
        """The resource whose settings are ``settings`` (the overridable ones as config)."""
        return cls(
            tickers=",".join(settings.tickers) or None,
            since=settings.since.isoformat(),
            offline=settings.offline,
        )

    @cached_property
    def settings(self) -> Settings:
        return with_overrides(
            load_settings(), tickers=self.tickers, since=self.since, offline=self.offline
        )

    @property
    def store(self) -> RawStore:
        return RawStore(self.settings.raw_dir)

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse.from_settings(self.settings)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Before a step runs: fail, naming the setting, if the warehouse cannot be written.

        So a step whose catalog is down or whose data path is read-only fails before it
        fetches anything, and writes nothing.
        """
        self.warehouse.check_ready()
