"""Every table of the application, for migrations and schema checks."""

from __future__ import annotations

import jangteo.accounts.models
import jangteo.catalog.models
import jangteo.community.models
import jangteo.core.models
import jangteo.orders.models
import jangteo.rewards.models
import jangteo.trust.models  # noqa: F401
from jangteo.core.db import Base

metadata = Base.metadata
