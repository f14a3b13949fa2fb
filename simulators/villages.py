"""Communes of Bình Dương the built-in scenarios place boards in, with coordinates from their encyclopedia entries.

Coordinates are the reference points of the Vietnamese Wikipedia articles (infobox "Tọa độ"), retrieved 2025:
- An Tây (ward of Bến Cát, GSO code 25843): 11°6′0″N 106°32′20″E — vi.wikipedia.org/wiki/An_Tây,_Bến_Cát
- Dầu Tiếng (district seat, township of Dầu Tiếng): 11°16′20″N 106°22′41″E — vi.wikipedia.org/wiki/Dầu_Tiếng
- Phú Chánh (ward of Tân Uyên, GSO code 25924): 11°4′6″N 106°41′58″E — vi.wikipedia.org/wiki/Phú_Chánh
- Phú Tân (ward of Thủ Dầu Một, GSO code 25763): 11°02′23″N 106°41′42″E — vi.wikipedia.org/wiki/Phú_Tân,_Thủ_Dầu_Một
- Uyên Hưng (centre of Tân Uyên city): 11°3′3″N 106°45′49″E — en.wikipedia.org/wiki/Tân_Uyên,_Bình_Dương

Names and districts are those before the July 2025 reorganisation (Bình Dương was merged into Ho Chi Minh City
and many communes were merged); the places themselves have not moved.
"""

from __future__ import annotations

from devices.registry import Village

DEMO_VILLAGES: tuple[Village, ...] = (
    Village(id="an-tay", name="An Tây", district="Bến Cát", lat=11.10000, lon=106.53889),
    Village(id="dau-tieng", name="Dầu Tiếng", district="Dầu Tiếng", lat=11.27222, lon=106.37806),
    Village(id="phu-chanh", name="Phú Chánh", district="Tân Uyên", lat=11.06833, lon=106.69944),
    Village(id="phu-tan", name="Phú Tân", district="Thủ Dầu Một", lat=11.03972, lon=106.69500),
    Village(id="uyen-hung", name="Uyên Hưng", district="Tân Uyên", lat=11.05083, lon=106.76361),
)
