"""The one Grafana version everything here is generated for; docker-compose must run the same image.

grafana-foundation-sdk publishes one build per Grafana minor (pinned in pyproject.toml); its dashboard schema,
panel options and alert-rule models are those of this version, so a different image could misread the files.
"""

from __future__ import annotations

GRAFANA_VERSION = "11.6.3"  # a patch release of the SDK's minor: same schemas, security fixes
GRAFANA_IMAGE = f"grafana/grafana:{GRAFANA_VERSION}"
SDK_DISTRIBUTION = "grafana-foundation-sdk"
SDK_GRAFANA_MINOR = "11.6"
"""The Grafana minor the pinned SDK build (`1769699379!11.6.0`) generates types for."""
