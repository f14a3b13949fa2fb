"""The page's words in Vietnamese (the default) and English, and how a request picks its language.

`?lang=en` (or `?lang=vi`) switches and is remembered in a cookie for a year; without either, Vietnamese.
The phone's Accept-Language is not consulted: many phones here are set to English menus by the shop, and
the programme's readers are Vietnamese.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600

_VI: dict[str, str] = {
    "site": "Làng thông minh",
    "switch": "English",
    "switch.lang": "en",
    "villages.title": "Các xã",
    "villages.intro": "Chọn xã để xem không khí, nước và độ ẩm đất ruộng.",
    "villages.none": "Chưa có xã nào gửi dữ liệu.",
    "devices.online": "{n}/{total} thiết bị đang hoạt động",
    "updated": "Cập nhật {ago}",
    "updated.at": "Số liệu lúc {clock}",
    "air": "Không khí",
    "air.index": "Chỉ số VN_AQI",
    "air.indicative": "Chỉ số tham khảo theo QĐ 1459/QĐ-TCMT, từ cảm biến giá rẻ của xã "
    "(không phải trạm quan trắc chuẩn).",
    "air.station": "Đo tại: {name}",
    "air.dominant": "Chất ô nhiễm chính: {name}",
    "air.more": "Lời khuyên chi tiết",
    "air.wait": "Chỉ số VN_AQI cần số đo của ít nhất 2 trong 3 giờ gần nhất.",
    "air.normal": "Người bình thường",
    "air.sensitive": "Người nhạy cảm ({groups})",
    "air.sensitive.groups": "người già, trẻ em, người mắc các bệnh hô hấp, tim mạch",
    "air.0.advice": "Không khí tốt — thoải mái ra ngoài",
    "air.1.advice": "Không khí trung bình — người nhạy cảm nên chú ý",
    "air.2.advice": "Không khí kém — hạn chế ra ngoài",
    "air.3.advice": "Không khí xấu — giảm làm việc nặng ngoài trời, đeo khẩu trang",
    "air.4.advice": "Không khí rất xấu — ở trong nhà nếu có thể",
    "air.5.advice": "Không khí nguy hại — ở trong nhà, đóng cửa",
    "water": "Nước",
    "water.station": "Đo tại: {name}",
    "water.poor.word": "Kém",
    "water.poor.advice": "Nước kém — không dùng cho sinh hoạt, báo cán bộ xã",
    "water.treat.word": "Cần xử lý",
    "water.treat.advice": "Chưa đạt nước sạch — phải lọc, đun sôi trước khi dùng",
    "water.partial.word": "Chưa đủ số đo",
    "water.partial.advice": "Chưa đủ số đo để đánh giá — đun sôi trước khi uống",
    "water.clean.word": "Đạt",
    "water.clean.advice": "pH và độ đục đạt chuẩn — vẫn nên đun sôi trước khi uống",
    "water.rule": "So với QCVN 01-1:2018/BYT (nước sạch sinh hoạt) và QCVN 08:2023/BTNMT (nước mặt).",
    "rain": "Mưa hôm nay",
    "rain.none": "Không mưa",
    "rain.nodata": "Chưa có số đo",
    "fields": "Ruộng",
    "fields.none": "Chưa có cảm biến ruộng.",
    "your.fields": "Ruộng của bạn",
    "hello": "Chào {name}",
    "soil.very_dry.word": "Đất rất khô",
    "soil.very_dry.advice": "Đất rất khô — cần tưới ngay",
    "soil.dry.word": "Đất khô",
    "soil.dry.advice": "Đất khô — nên tưới",
    "soil.moist.word": "Đủ ẩm",
    "soil.moist.advice": "Đất đủ ẩm — chưa cần tưới",
    "soil.wet.word": "Đất ướt",
    "soil.wet.advice": "Đất ướt — không cần tưới",
    "soil.saturated.word": "Đất đẫm nước",
    "soil.saturated.advice": "Đất đẫm nước — không tưới, kiểm tra thoát nước",
    "soil.rule": "Ngưỡng cho đất thịt: héo {wp}%, tưới dưới {irrigate}%, đủ ẩm đến {fc}%.",
    "soil_moisture": "Độ ẩm đất",
    "nodata.word": "Chưa có số liệu",
    "nodata.advice": "Chưa có số đo mới",
    "stale": "Số đo cũ — thiết bị mất kết nối",
    "stations": "Trạm đo",
    "offline": "Mất kết nối",
    "offline.since": "Mất kết nối — số đo cuối {ago}",
    "online": "Đang hoạt động",
    "battery.low": "Pin yếu ({value} V) — cần sạc hoặc thay pin",
    "signal.weak": "Sóng yếu ({value} dBm)",
    "flagged": "Số đo đáng ngờ — nên kiểm tra cảm biến",
    "device.latest": "Số đo mới nhất",
    "device.chart": "24 giờ qua: thấp nhất {low}, cao nhất {high}",
    "device.chart.none": "24 giờ qua: chưa có số đo",
    "device.chart.total": "24 giờ qua: tổng {total}",
    "device.kind.water": "Trạm nước",
    "device.kind.air": "Trạm không khí",
    "device.kind.agri": "Cảm biến ruộng",
    "device.kind.none": "Thiết bị",
    "device.unregistered": "Thiết bị chưa đăng ký",
    "back.village": "← Về xã {name}",
    "back.home": "← Trang của bạn",
    "back.villages": "← Các xã",
    "ago.now": "vừa xong",
    "ago.minutes": "{n} phút trước",
    "ago.hours": "{n} giờ trước",
    "ago.days": "{n} ngày trước",
    "footer": "Số liệu từ cảm biến của xã. Giờ Việt Nam (GMT+7).",
    "notfound.title": "Không tìm thấy trang",
    "notfound.body": "Đường dẫn này không đúng hoặc đã hết hạn. Hãy kiểm tra lại tin nhắn, "
    "hoặc hỏi cán bộ xã để nhận đường dẫn mới.",
    "closed.title": "Cần đường dẫn riêng",
    "closed.body": "Trang công khai đang tắt. Hãy mở đường dẫn riêng mà cán bộ xã đã gửi cho bạn "
    "qua tin nhắn hoặc Zalo.",
    "unavailable.title": "Chưa tải được số liệu",
    "unavailable.body": "Máy chủ số liệu đang bận hoặc mất kết nối. Hãy thử lại sau ít phút.",
    "retry": "Thử lại",
}

_EN: dict[str, str] = {
    "site": "Smart Village",
    "switch": "Tiếng Việt",
    "switch.lang": "vi",
    "villages.title": "Communes",
    "villages.intro": "Choose a commune to see its air, water and field soil moisture.",
    "villages.none": "No commune has sent data yet.",
    "devices.online": "{n} of {total} devices working",
    "updated": "Updated {ago}",
    "updated.at": "Readings at {clock}",
    "air": "Air",
    "air.index": "VN_AQI index",
    "air.indicative": "Indicative index per Decision 1459/QĐ-TCMT, from the commune's low-cost sensors "
    "(not a certified monitoring station).",
    "air.station": "Measured at: {name}",
    "air.dominant": "Main pollutant: {name}",
    "air.more": "Detailed advice",
    "air.wait": "The VN_AQI needs readings in at least 2 of the last 3 hours.",
    "air.normal": "Most people",
    "air.sensitive": "Sensitive people ({groups})",
    "air.sensitive.groups": "the elderly, children, people with respiratory or heart disease",
    "air.0.advice": "Good air — go out freely",
    "air.1.advice": "Moderate air — sensitive people take care",
    "air.2.advice": "Poor air — limit time outdoors",
    "air.3.advice": "Bad air — avoid heavy outdoor work, wear a mask",
    "air.4.advice": "Very bad air — stay indoors if you can",
    "air.5.advice": "Hazardous air — stay indoors, close doors",
    "water": "Water",
    "water.station": "Measured at: {name}",
    "water.poor.word": "Poor",
    "water.poor.advice": "Poor water — do not use at home, tell the commune officer",
    "water.treat.word": "Treat first",
    "water.treat.advice": "Not clean water — filter and boil before use",
    "water.partial.word": "Too few readings",
    "water.partial.advice": "Not enough readings to judge — boil before drinking",
    "water.clean.word": "Meets limits",
    "water.clean.advice": "pH and turbidity meet the limits — still boil before drinking",
    "water.rule": "Compared with QCVN 01-1:2018/BYT (domestic water) and QCVN 08:2023/BTNMT (surface water).",
    "rain": "Rain today",
    "rain.none": "No rain",
    "rain.nodata": "No reading yet",
    "fields": "Fields",
    "fields.none": "No field sensors yet.",
    "your.fields": "Your fields",
    "hello": "Hello {name}",
    "soil.very_dry.word": "Very dry",
    "soil.very_dry.advice": "Very dry soil — water now",
    "soil.dry.word": "Dry",
    "soil.dry.advice": "Dry soil — water the field",
    "soil.moist.word": "Moist",
    "soil.moist.advice": "Soil moist enough — no need to water",
    "soil.wet.word": "Wet",
    "soil.wet.advice": "Wet soil — do not water",
    "soil.saturated.word": "Waterlogged",
    "soil.saturated.advice": "Waterlogged — do not water, check drainage",
    "soil.rule": "Thresholds for loam: wilting {wp}%, water below {irrigate}%, moist up to {fc}%.",
    "soil_moisture": "Soil moisture",
    "nodata.word": "No data",
    "nodata.advice": "No recent reading",
    "stale": "Old reading — the device is offline",
    "stations": "Stations",
    "offline": "Offline",
    "offline.since": "Offline — last reading {ago}",
    "online": "Working",
    "battery.low": "Low battery ({value} V) — charge or replace it",
    "signal.weak": "Weak signal ({value} dBm)",
    "flagged": "Doubtful reading — check the sensor",
    "device.latest": "Latest readings",
    "device.chart": "Last 24 hours: lowest {low}, highest {high}",
    "device.chart.none": "Last 24 hours: no readings",
    "device.chart.total": "Last 24 hours: {total} in all",
    "device.kind.water": "Water station",
    "device.kind.air": "Air station",
    "device.kind.agri": "Field sensor",
    "device.kind.none": "Device",
    "device.unregistered": "Unregistered device",
    "back.village": "← Back to {name}",
    "back.home": "← Your page",
    "back.villages": "← Communes",
    "ago.now": "just now",
    "ago.minutes": "{n} min ago",
    "ago.hours": "{n} h ago",
    "ago.days": "{n} days ago",
    "footer": "Readings from the commune's sensors. Vietnam time (GMT+7).",
    "notfound.title": "Page not found",
    "notfound.body": "This link is wrong or has expired. Check the message again, or ask the commune officer "
    "for a new link.",
    "closed.title": "A personal link is needed",
    "closed.body": "The public pages are switched off. Open the personal link the commune officer sent you "
    "by SMS or Zalo.",
    "unavailable.title": "Readings could not be loaded",
    "unavailable.body": "The data server is busy or unreachable. Please try again in a few minutes.",
    "retry": "Try again",
}

STRINGS: Mapping[Lang, Mapping[str, str]] = MappingProxyType({"vi": MappingProxyType(_VI), "en": MappingProxyType(_EN)})


def text(lang: Lang, key: str) -> str:
    """The string `key` in `lang`.

    Raises:
        KeyError: no such string (a test checks both languages have every key).
    """
    return STRINGS[lang][key]


def choose(query: str | None, cookie: str | None) -> tuple[Lang, bool]:
    """The page language, and whether to (re)set the cookie: `?lang=` wins, then the cookie, then Vietnamese."""
    if query is not None and query in _BY_CODE:
        return _BY_CODE[query], query != cookie
    if cookie is not None and cookie in _BY_CODE:
        return _BY_CODE[cookie], False
    return DEFAULT_LANG, False


_BY_CODE: Mapping[str, Lang] = MappingProxyType({"vi": "vi", "en": "en"})
