"""Run every benchmark and print each figure beside a baseline measured in the same run, as a ratio.

    python benchmarks/run.py [--engagements N] [--database-url URL] [--json]

Without --database-url a fresh SQLite file is migrated and seeded. With a PostgreSQL URL, give an empty,
migrated database. With --json the last line is one JSON object {name: {value, baseline, ratio, target, unit}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine

from benchmarks import cases, contention, endpoints, health, people, scale, ticking, webhooks
from benchmarks.seed import Seeder
from okr_rollout.db import make_engine

ROOT = Path(__file__).resolve().parents[1]


def _migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


_over_http: dict[str, cases.Result] = {}


def over_http(engine: Engine, url: str, workdir: Path) -> dict[str, cases.Result]:
    """Both HTTP endpoints are measured in one run of the two servers."""
    if not _over_http:
        _over_http.update(endpoints.endpoints_over_http(engine, url, workdir))
    return _over_http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true", help="print the results as JSON on the last line")
    parser.add_argument("--only", nargs="*", default=None, help="names of the benchmarks to run")
    parser.add_argument("--slow-receiver-seconds", type=float, default=None,
                        help="how long the slow receiver of webhook_neighbour_p99 takes to answer (default: 7, "
                             "1 below 1,000 engagements to keep a CI run short)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="okr-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    _migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    seeder = Seeder(engine, args.engagements)
    seeder.run(progress=sys.stderr.isatty())
    print(f"seeded {args.engagements:,} engagements ({seeder.rows:,} rows) in "
          f"{time.perf_counter() - started:.1f} s on {engine.dialect.name}", file=sys.stderr)

    benchmarks: dict[str, Callable[[], cases.Result]] = {
        "portfolio_readiness": lambda: cases.portfolio_readiness(engine, seeder.catalog),
        "portfolio_health": lambda: health.portfolio_health(engine, seeder.catalog),
        "portfolio_health_page": lambda: health.portfolio_health_page(engine, seeder.catalog),
        "transition": lambda: cases.transition(engine, seeder.catalog),
        "scheduler_tick": lambda: cases.scheduler_tick(engine, seeder.catalog, url),
        "scheduler_tick_steady": lambda: scale.scheduler_tick_steady(engine, seeder.catalog, url),
        "scheduler_tick_scaling": lambda: scale.scheduler_tick_scaling(engine, seeder.catalog, url, workdir),
        "portfolio_page": lambda: scale.portfolio_page(engine, seeder.catalog, url, workdir),
        "memory_transitions": lambda: cases.memory_transitions(seeder.catalog),
        "get_engagement_throughput": lambda: cases.get_engagement_throughput(engine, url, workdir),
        "transition_http": lambda: over_http(engine, url, workdir)["transition_http"],
        "get_engagement_http": lambda: over_http(engine, url, workdir)["get_engagement_http"],
        "transition_heavy_gate": lambda: endpoints.transition_heavy_gate(engine, url, workdir, seeder),
        "people_search": lambda: people.people_search(engine, seeder.catalog.current("standard").sha256,
                                                 seeder.catalog.current("standard").version),
        # The full-size import of 100,000 rows; a CI-size run imports 10,000.
        "write_during_import_and_flood": lambda: contention.write_during_import_and_flood(
            engine, url, 100_000 if args.engagements >= 1_000 else 10_000),
        "webhook_delivery": lambda: webhooks.webhook_delivery(engine, url, 5_000 if args.engagements >= 1_000
                                                              else 1_000),
        "webhook_neighbour_p99": lambda: webhooks.webhook_neighbour_p99(
            engine, url, slow_seconds=args.slow_receiver_seconds or (7.0 if args.engagements >= 1_000 else 1.0)),
        # Two heavy ticks in turn with the transitions alone; one in a CI-size run, to keep it short.
        "write_during_tick": lambda: ticking.write_during_tick(engine, seeder.catalog, url,
                                                               turns=2 if args.engagements >= 1_000 else 1),
        "worker_rss_hour": lambda: ticking.worker_rss_hour(engine, seeder.catalog, url),
    }
    results: dict[str, dict[str, Any]] = {}
    print(f"{'benchmark':<28}{'value':>14}{'baseline':>14}{'ratio':>9}  target  unit")
    for name, run in benchmarks.items():
        if args.only and name not in args.only:
            continue
        result = run()
        results[name] = result.as_dict()
        print(f"{name:<28}{result.value:>14.4g}{result.baseline:>14.4g}{result.ratio:>9.2f}  "
              f"{result.target:<6}  {result.unit}", flush=True)
    engine.dispose()
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
