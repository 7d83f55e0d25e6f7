"""All configuration, read from JANGTEO_* environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRETS = {"", "secret", "changeme", "change-me", "password", "dev", "test"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JANGTEO_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = "jangteo:"
    secret_key: str = ""
    media_dir: Path | None = None
    base_url: str = "http://127.0.0.1:8000"
    # a directory whose templates/ and static/ override the web pages' own
    theme_dir: Path | None = None
    log_json: bool = True

    # tokens and sessions
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # argon2id; the defaults cost about 0.25 s a hash here, tests lower them
    argon2_time_cost: int = 4
    argon2_memory_cost_kib: int = 128 * 1024
    argon2_parallelism: int = 2
    # login throttling: failures allowed per window, per account and per IP
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_seconds: int = 15 * 60

    # commerce
    shipping_fee: int = 3000
    free_shipping_threshold: int = 50000
    order_payment_timeout_seconds: int = 30 * 60
    points_expiry_days: int = 365
    signup_bonus_points: int = 1000
    purchase_reward_percent: int = 1
    max_quantity_per_line: int = 999
    payment_provider: Literal["dummy", "toss"] = "dummy"
    toss_secret_key: str = ""
    toss_api_base: str = "https://api.tosspayments.com"
    toss_timeout_seconds: float = 10.0

    # community: activity points (paid through the wallet, capped per Seoul day), daily posting
    # limits per trust level, and what earns trust (posts read on distinct days, then likes
    # received). These are the defaults of the rules staff change in the console.
    community_post_points: int = 10
    community_snap_points: int = 30
    community_review_points: int = 20
    community_photo_review_points: int = 50
    community_answer_bonus_points: int = 10
    community_daily_points_cap: int = 50
    community_new_posts_per_day: int = 3
    community_new_comments_per_day: int = 20
    community_posts_per_day: int = 30
    community_comments_per_day: int = 300
    community_trusted_posts_per_day: int = 100
    community_trusted_comments_per_day: int = 1000
    community_trust_basic_reads: int = 10
    community_trust_basic_days: int = 2
    community_trust_member_reads: int = 100
    community_trust_member_days: int = 10
    community_trust_member_likes: int = 10
    # questions: a bounty is 0 or within these bounds, held from the asker until an answer is
    # accepted (the platform adds its bonus) or the question expires and the bounty goes back
    community_min_bounty: int = 10
    community_max_bounty: int = 10_000
    community_question_days: int = 7
    # polls ("골라줘") close at most this many days after they open
    community_poll_max_days: int = 30

    # snaps and reviews: photos per post, photo uploads per member and hour, and how long an
    # upload waits to be attached
    community_max_post_images: int = 10
    community_image_uploads_per_hour: int = 60
    community_image_token_ttl_seconds: int = 24 * 3600

    # rewards for sales through members' content: the last touch within the window before the
    # order wins; the rate (basis points, 100 = 1 %) unless the category has its own; a cap per
    # order (KRW); available this many days after delivery (the return window)
    rewards_window_minutes: int = 24 * 60
    rewards_default_rate_bp: int = 300
    rewards_cap_per_order: int = 30_000
    rewards_return_window_days: int = 7
    # creators: the activity score (last 90 days) of each tier, and its reward rate
    creators_neighbor_score: int = 100
    creators_pro_score: int = 500
    creators_neighbor_rate_bp: int = 300
    creators_pro_rate_bp: int = 500
    # tips to creators (KRW; a point is worth 1 won): the least and most, and the platform's fee
    tips_min_amount: int = 1_000
    tips_max_amount: int = 500_000
    tips_fee_bp: int = 1_000
    # paid subscriptions: the platform's fee on each charge, and the days a failed renewal is
    # retried (daily) before the subscription lapses
    subscriptions_fee_bp: int = 1_500
    subscriptions_grace_days: int = 3
    # monthly settlement: income tax withheld from individual creators' payouts (3.3 %)
    settlement_withholding_bp: int = 330

    # referral program: points to the inviter and to the invitee at the invitee's first delivery
    referral_inviter_points: int = 3_000
    referral_invitee_points: int = 3_000

    # chat rooms: messages a member may send per 10 seconds, and messages per history page
    chat_rate_per_10s: int = 10
    chat_history_page: int = 50

    # requests and uploads
    max_request_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 6000 * 6000

    # public catalog answers held in each process's memory (0 turns it off)
    catalog_cache_seconds: float = 1.0

    # bulk stock import from CSV: the file's limits, and rows applied per job run
    stock_import_max_bytes: int = 5 * 1024 * 1024
    stock_import_max_rows: int = 20_000
    stock_import_batch_rows: int = 500

    # background work in the embedded mode
    run_background_loops: bool = True
    background_poll_seconds: float = 1.0

    demo_seed_on_start: bool = False
    sqlite_pool_size: int = 8
    pg_pool_size: int = 10

    extra_locale_dirs: list[Path] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'jangteo.db'}"
        if self.media_dir is None:
            self.media_dir = self.var_dir / "media"
        if self.env == "production" and (
            self.secret_key.lower() in WEAK_SECRETS or len(self.secret_key) < 32
        ):
            raise ValueError(
                "JANGTEO_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once into var/ for development."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def get_settings() -> Settings:
    return Settings()
