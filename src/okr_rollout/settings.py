"""Every knob of okr-rollout, read from OKR_ROLLOUT_* environment variables (nothing else reads env)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OKR_ROLLOUT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./okr-rollout.db",
        description="SQLAlchemy URL; SQLite in a local file by default, postgresql+psycopg://... to scale out.",
    )
    playbooks_dir: Path = Field(default=PROJECT_ROOT / "playbooks", description="Where playbook YAML files live.")
    max_body_bytes: int = Field(default=1024 * 1024, description="Requests with a larger body get 413.")
    idempotency_ttl_hours: int = Field(default=24, description="How long Idempotency-Key replays are kept.")
    page_size_default: int = 50
    page_size_max: int = 500
    sqlite_busy_timeout_ms: int = Field(default=15_000, description="How long SQLite waits for the write lock.")
    postgres_lock_timeout_ms: int = Field(default=15_000, ge=0, description="How long a PostgreSQL statement "
                                                                           "waits for a row or table lock held "
                                                                           "by another transaction before it "
                                                                           "gives up (the request answers 503 "
                                                                           "with Retry-After); the PostgreSQL "
                                                                           "twin of sqlite_busy_timeout_ms. "
                                                                           "0: wait forever.")
    postgres_statement_timeout_ms: int = Field(default=30_000, ge=0, description="Longest a single PostgreSQL "
                                                                                "statement of the API, the CLI "
                                                                                "or the scheduler may run "
                                                                                "before it is cancelled (503 "
                                                                                "with Retry-After). Migrations "
                                                                                "are not limited. 0: no limit.")
    database_pool_size: int = Field(default=20, ge=1, description="Connections each process keeps open to its "
                                                                  "database once it has needed them. Beyond "
                                                                  "them, up to database_max_overflow more are "
                                                                  "opened for a burst and closed once returned. "
                                                                  "With several web workers, keep workers x "
                                                                  "(pool size + overflow) under PostgreSQL's "
                                                                  "max_connections (100 by default).")
    database_max_overflow: int = Field(default=10, ge=0, description="Connections opened beyond "
                                                                     "database_pool_size for a burst, closed "
                                                                     "once returned.")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL used in links (calendar feeds).")

    # --- scheduler and reminders --------------------------------------------------------------------------
    scheduler_in_web: bool = Field(default=True, description="`serve` also runs the scheduler and webhook "
                                                             "delivery (the embedded default).")
    scheduler_interval_seconds: int = Field(default=60, ge=1, description="How often reminders are computed.")
    delivery_interval_seconds: float = Field(default=2.0, gt=0, description="How often e-mails are sent (and "
                                                                            "webhooks, by a `delivery_tick` "
                                                                            "called directly).")
    reminder_catch_up_hours: int = Field(default=48, ge=0, description="After downtime, occurrences missed within "
                                                                       "this window are still sent; older ones "
                                                                       "are recorded as skipped.")
    readiness_batch_size: int = Field(default=200, ge=1, description="Engagements whose readiness the "
                                                                     "scheduler re-evaluates per write "
                                                                     "transaction (each one short).")
    readiness_max_per_tick: int = Field(default=2_000, ge=1, description="Engagements whose readiness one "
                                                                        "scheduler tick evaluates at most (after "
                                                                        "an upgrade every one is stale): the "
                                                                        "rest, longest waiting first, in the "
                                                                        "next ticks.")
    readiness_lookahead_days: int = Field(default=7, ge=1, description="How far ahead an evaluation looks for "
                                                                       "the next change the clock alone brings "
                                                                       "(a deadline, a day a gate counts); "
                                                                       "without one it looks again then.")
    reminder_lookahead_days: int = Field(default=7, ge=1, description="How far ahead a reminder run looks for an "
                                                                      "engagement's next reminder; without one "
                                                                      "it looks again then.")
    scheduler_lock_key: int = Field(default=7_202_611, description="PostgreSQL advisory lock id of the active "
                                                                   "scheduler.")

    # --- e-mail -------------------------------------------------------------------------------------------
    smtp_host: str | None = Field(default=None, description="SMTP server; e-mail is off when unset.")
    smtp_port: int = 25
    smtp_security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "okr-rollout@localhost"
    smtp_timeout_seconds: float = 10.0

    # --- webhooks -----------------------------------------------------------------------------------------
    webhooks_allow_private: bool = Field(default=False, description="Allow webhook URLs that resolve to "
                                                                    "loopback, link-local or private addresses.")
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_failures: int = Field(default=10, ge=1, description="Failed attempts, over at least "
                                                                              "webhook_disable_after_hours, that "
                                                                              "disable a subscription.")
    webhook_disable_after_hours: int = Field(default=24, ge=1)

    # --- e-mail retries (reminders) -----------------------------------------------------------------------
    email_max_attempts: int = Field(default=8, ge=1, description="Attempts before an e-mail is marked failed.")
    email_retry_base_seconds: float = Field(default=60.0, gt=0, description="Wait after the first failed "
                                                                           "attempt; doubled after each next one.")
    email_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, description="Longest wait between two "
                                                                                 "attempts.")
    email_digest_hour: int = Field(default=8, ge=0, le=23, description="Local hour from which a day's (a week's: "
                                   "Monday's) e-mail digest goes out, outside the person's quiet hours.")

    # --- webhook delivery (added by the webhooks part) ------------------------------------------------------
    webhook_batch_size: int = Field(default=50, ge=1, description="Events read, sent and recorded together "
                                                                  "for one subscription (one commit per "
                                                                  "batch); a delivery pass sends each "
                                                                  "subscription at most one batch.")
    webhook_concurrency: int = Field(default=8, ge=1, description="Subscriptions one worker delivers to at "
                                                                  "once, each in its own thread: a slow or "
                                                                  "failing receiver holds only its own.")
    webhook_poll_seconds: float = Field(default=0.5, gt=0, description="How often each worker's webhook "
                                                                     "dispatcher looks for subscriptions with "
                                                                     "events to send (a cheap query); the "
                                                                     "longest an event waits after its commit "
                                                                     "before its delivery starts.")
    webhook_rate_per_subscription: float = Field(default=25.0, ge=0, description="Most events per second sent "
                                                                                 "to one subscription; 0: no "
                                                                                 "limit.")
    webhook_retry_jitter: float = Field(default=0.1, ge=0, le=1, description="A retry waits up to this fraction "
                                                                             "longer than the Standard Webhooks "
                                                                             "schedule says, so receivers back "
                                                                             "from an outage are not all hit at "
                                                                             "once.")

    # --- pages: sign-in and sessions ----------------------------------------------------------------------
    web_session_hours: int = Field(default=12, ge=1, description="A page session ends this long after sign-in.")
    web_cookie_secure: bool | None = Field(default=None, description="Mark the page cookies Secure; unset: "
                                                                     "when the request came over HTTPS.")
    web_sign_in_account_failures: int = Field(default=100, ge=1, le=100, description="Failed sign-ins an "
                                              "account takes in an hour from browsers it does not know; then "
                                              "they wait (at most 100: OWASP ASVS).")
    web_sign_in_client_failures: int = Field(default=100, ge=1, description="Failed sign-ins one client address "
                                                                           "may make in an hour, over every "
                                                                           "account (password spraying).")
    web_sign_in_device_failures: int = Field(default=10, ge=1, description="Failed sign-ins in an hour from a "
                                                                          "browser where the account signed in "
                                                                          "before (it keeps its own allowance).")
    web_trusted_proxies: str = Field(default="", description="Comma-separated addresses or networks of reverse "
                                                             "proxies whose X-Forwarded-For names the client; "
                                                             "empty: the client is the connection's peer.")
    password_hash_time_cost: int = Field(default=3, ge=1, description="argon2id passes over memory when a page "
                                                                     "password is hashed (the library's default, "
                                                                     "RFC 9106's second recommended option).")
    password_hash_memory_kib: int = Field(default=65_536, ge=8, description="argon2id memory per password hash, "
                                                                          "in KiB (64 MiB by default).")
    password_hash_parallelism: int = Field(default=4, ge=1, description="argon2id lanes per password hash.")
    password_check_workers: int = Field(default=1, ge=1, description="Password checks (argon2) one process runs "
                                                                     "at once, on threads of the lowest CPU "
                                                                     "priority; more sign-ins wait their turn.")
    password_check_nice: int = Field(default=19, ge=0, le=19, description="The CPU priority (Linux nice value) of "
                                                                          "the password checks' threads: 19, the "
                                                                          "lowest, lets a flood of sign-ins take no "
                                                                          "CPU from other requests; 0 keeps the "
                                                                          "process's own.")
    client_link_days: int = Field(default=7, ge=1, description="A sign-in link sent to a person of a client "
                                                                "organization expires this many days after it "
                                                                "was made (it is single-use).")
    client_link_issue_limit: int = Field(default=5, ge=1, description="Sign-in links one person of a client "
                                                                     "organization may be sent in an hour.")
    client_link_open_failures: int = Field(default=20, ge=1, description="Unknown, used, expired or revoked "
                                                                        "sign-in links one client address may "
                                                                        "open in an hour; then it waits.")
    web_idle_days: int = Field(default=14, ge=1, description="The portfolio flags an engagement with no recorded "
                                                             "activity for this many days as needing attention.")

    # --- CSV imports ------------------------------------------------------------------------------------
    import_background_rows: int = Field(default=2_000, ge=1, description="A CSV import of more rows than this "
                                                                        "runs as a background job (202 and a job "
                                                                        "to poll); a smaller one answers at once.")
    import_batch_rows: int = Field(default=1_000, ge=1, description="Rows a background import writes per "
                                                                  "transaction; the write lock is free between "
                                                                  "two batches.")
    import_batch_seconds: float = Field(default=0.02, gt=0, description="A background import's batch also ends "
                                                                       "once it has written for this long (so "
                                                                       "another write waits about this long at "
                                                                       "most), whichever comes first.")
    import_stale_seconds: int = Field(default=60, ge=1, description="A background import whose process gave no "
                                                                    "sign of life for this long died: the next "
                                                                    "process to start resumes it.")

    # --- playbook versions ------------------------------------------------------------------------------
    playbooks_extra_dir: Path | None = Field(default=None, description="A second directory of playbook files "
                                                                       "loaded beside playbooks_dir (several "
                                                                       "versions of one playbook may live side "
                                                                       "by side in either).")

    @field_validator("web_trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in filter(None, (piece.strip() for piece in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # a ValueError names the part that is no address
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
