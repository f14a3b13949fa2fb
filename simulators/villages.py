"""Communes of Bình Dương used by the built-in demo fleet (coordinates approximate, commune centres)."""

from __future__ import annotations

from devices.registry import Village

DEMO_VILLAGES: tuple[Village, ...] = (
    Village(id="phu-an", name="Phú An", district="Bến Cát", lat=11.0480, lon=106.5830),
    Village(id="an-tay", name="An Tây", district="Bến Cát", lat=11.1050, lon=106.5360),
    Village(id="thuong-tan", name="Thường Tân", district="Bắc Tân Uyên", lat=11.0920, lon=106.8500),
    Village(id="lai-uyen", name="Lai Uyên", district="Bàu Bàng", lat=11.2710, lon=106.6280),
    Village(id="thanh-tuyen", name="Thanh Tuyền", district="Dầu Tiếng", lat=11.1600, lon=106.4800),
)
