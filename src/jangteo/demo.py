"""The Korean demo shop: invented brands, a category tree, 200+ products, accounts and coupons.

Generated in code from a fixed seed, so every run makes the same shop (apart from ids).
"""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
from PIL import Image, ImageDraw

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.core.clock import Clock
from jangteo.core.errors import DomainError
from jangteo.core.ids import uuid7
from jangteo.core.platform import Platform
from jangteo.orders import coupons

SEED = 2026
PRODUCT_COUNT = 220
DEMO_PASSWORD = "jangteo-demo-2026"  # noqa: S105 - printed in the README for the demo accounts
DEMO_ACCOUNTS = [
    # (email, nickname, roles)
    ("staff@demo.jangteo.kr", "장터운영팀", ("member", "staff")),
    ("creator@demo.jangteo.kr", "옷잘알크리에이터", ("member", "creator")),
    ("minji@demo.jangteo.kr", "민지", ("member",)),
    ("seojun@demo.jangteo.kr", "서준", ("member",)),
    ("jiwoo@demo.jangteo.kr", "지우의옷장", ("member",)),
]

# (name, English name, the top categories it sells in); all invented
BRANDS = [
    ("모노하우스", "Monohouse", ("패션",)),
    ("무드스탠다드", "Mood Standard", ("패션",)),
    ("하루공방", "Haru Studio", ("리빙",)),
    ("온새미로", "Onsaemiro", ("패션", "리빙")),
    ("비비드랩", "Vivid Lab", ("뷰티",)),
    ("달빛상회", "Moonlight Store", ("식품", "리빙")),
    ("숲속살롱", "Forest Salon", ("뷰티",)),
    ("담백한부엌", "Plain Kitchen", ("식품", "리빙")),
    ("Northpeak", None, ("패션",)),
    ("Aurora Lane", None, ("패션", "뷰티")),
    ("Cotton Theory", None, ("패션", "리빙")),
    ("Urban Tide", None, ("패션",)),
    ("Swiftly", None, ("패션",)),
    ("Green Spoon", None, ("식품",)),
]

SIZES = ["S", "M", "L", "XL"]
WAIST = ["26", "28", "30", "32", "34"]
COLORS = ["블랙", "화이트", "네이비", "멜란지 그레이", "아이보리", "베이지", "차콜", "카키"]


@dataclass(frozen=True)
class Item:
    """One kind of goods: its name, the materials it comes in, its price range in KRW."""

    name: str
    materials: tuple[str, ...]
    price: tuple[int, int]


@dataclass(frozen=True)
class Line:
    """What one leaf category sells, with its option types, tags and picture colour."""

    items: tuple[Item, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]
    tags: tuple[str, ...]
    color: tuple[int, int, int]


def _items(price: tuple[int, int], materials: tuple[str, ...], *names: str) -> tuple[Item, ...]:
    return tuple(Item(name, materials, price) for name in names)


CATALOG: dict[str, dict[str, Line]] = {
    "패션": {
        "상의": Line(
            _items((12900, 39000), ("코튼", "오가닉 코튼", "텐셀"), "반팔 티셔츠", "긴팔 티셔츠")
            + _items((29000, 69000), ("코튼", "린넨", "옥스포드"), "셔츠", "스트라이프 셔츠")
            + _items((29000, 79000), ("코튼", "기모", "쭈리"), "맨투맨", "후드 티셔츠"),
            (("사이즈", tuple(SIZES)), ("색상", tuple(COLORS))),
            ("데일리룩", "출근룩", "기본템", "레이어드"),
            (236, 226, 214),
        ),
        "하의": Line(
            _items(
                (39000, 89000), ("데님", "워싱 데님", "생지 데님"), "와이드 데님", "스트레이트 데님"
            )
            + _items((29000, 69000), ("코튼 트윌", "나일론", "울 블렌드"), "치노 팬츠", "슬랙스")
            + _items((25000, 59000), ("나일론", "코튼", "기모"), "조거 팬츠", "카고 팬츠"),
            (("허리", tuple(WAIST)), ("색상", ("블랙", "네이비", "베이지", "연청", "진청"))),
            ("데일리룩", "와이드핏", "체형커버", "사계절"),
            (205, 218, 235),
        ),
        "아우터": Line(
            _items((129000, 329000), ("울", "캐시미어 블렌드"), "코트", "싱글 코트")
            + _items((89000, 259000), ("덕다운", "구스다운"), "숏 패딩", "롱 패딩")
            + _items((59000, 139000), ("데님", "나일론", "코튼"), "트러커 재킷", "블루종"),
            (("사이즈", tuple(SIZES)), ("색상", ("블랙", "차콜", "카멜", "네이비"))),
            ("겨울코디", "간절기", "출근룩", "보온"),
            (214, 204, 194),
        ),
        "니트": Line(
            _items(
                (39000, 159000),
                ("캐시미어", "캐시미어 블렌드", "램스울", "메리노 울", "모헤어"),
                "니트",
                "가디건",
                "케이블 니트",
                "터틀넥 니트",
                "니트 조끼",
                "라운드 니트",
            ),
            (("사이즈", ("S", "M", "L")), ("색상", ("아이보리", "오트밀", "그레이", "블랙"))),
            ("겨울코디", "니트추천", "선물추천", "포근함"),
            (240, 230, 220),
        ),
        "가방": Line(
            _items((19000, 49000), ("캔버스", "나일론"), "에코백", "백팩", "토트백")
            + _items((79000, 189000), ("소가죽", "비건 레더"), "크로스백", "숄더백", "미니백"),
            (("색상", ("블랙", "브라운", "아이보리", "카키")),),
            ("데일리백", "출근가방", "수납력", "선물추천"),
            (222, 210, 196),
        ),
    },
    "뷰티": {
        "스킨케어": Line(
            _items(
                (12000, 38000),
                ("히알루론산", "병풀", "세라마이드", "어성초"),
                "수분 크림",
                "진정 토너",
                "시카 앰플",
                "클렌징 폼",
            )
            + _items((18000, 45000), ("비타민C", "나이아신아마이드"), "세럼", "앰플")
            + _items((13000, 29000), ("무기자차", "톤업"), "선크림 SPF50+"),
            (("용량", ("50ml", "100ml")),),
            ("민감성피부", "수분충전", "데일리케어", "비건뷰티"),
            (226, 240, 236),
        ),
        "메이크업": Line(
            _items(
                (9000, 36000),
                ("롱웨어", "촉촉", "매트", "글로우"),
                "쿠션 파운데이션",
                "립 틴트",
                "컨실러",
                "블러셔",
            )
            + _items((15000, 39000), ("데일리", "뉴트럴"), "아이섀도 팔레트"),
            (("컬러", ("21호 라이트", "23호 내추럴", "로지 코랄", "뮤트 로즈")),),
            ("데일리메이크업", "인생템", "선물추천", "립추천"),
            (246, 222, 228),
        ),
    },
    "리빙": {
        "침구": Line(
            _items((59000, 259000), ("구스다운", "순면", "모달"), "차렵이불", "호텔식 침구 세트")
            + _items((12000, 39000), ("모달", "순면", "워싱 코튼"), "베개 커버")
            + _items((19000, 49000), ("극세사", "코튼 와플"), "담요"),
            (("사이즈", ("SS", "Q", "K")),),
            ("호텔침구", "사계절", "꿀잠", "자취템"),
            (230, 232, 244),
        ),
        "주방": Line(
            _items((19000, 89000), ("스테인리스", "세라믹 코팅", "무쇠"), "프라이팬", "냄비")
            + _items((9000, 39000), ("원목", "편백나무"), "도마", "수저 세트")
            + _items((8000, 35000), ("내열 유리", "도자기"), "밀폐용기 세트", "머그컵"),
            (("사이즈", ("소", "중", "대")),),
            ("집들이선물", "주방템", "자취템", "살림템"),
            (236, 236, 226),
        ),
    },
    "식품": {
        "간식": Line(
            _items(
                (6900, 32000),
                ("국산", "유기농", "무첨가", "저당"),
                "수제 그래놀라",
                "견과류 믹스",
                "고구마 말랭이",
                "쿠키",
                "단백질 바",
            ),
            (("용량", ("200g", "500g", "1kg")),),
            ("건강간식", "다이어트", "아이간식", "사무실간식"),
            (244, 230, 206),
        ),
        "음료": Line(
            _items(
                (4900, 29000),
                ("국산", "유기농", "무가당", "제로슈거"),
                "콜드브루 원액",
                "유자차",
                "보리차 티백",
                "탄산수",
                "캐모마일 티",
            ),
            (("구성", ("1개", "3개 세트", "6개 세트")),),
            ("홈카페", "건강음료", "선물세트", "다이어트"),
            (224, 236, 214),
        ),
    },
}

ADJECTIVES = {
    "패션": ("데일리", "오버핏", "세미오버핏", "베이직", "시그니처", "빈티지", "에센셜", "클래식"),
    "뷰티": ("순한", "데일리", "저자극", "비건", "시그니처", "촉촉한"),
    "리빙": ("호텔식", "심플", "모던", "내추럴", "북유럽풍", "데일리"),
    "식품": ("수제", "바삭한", "달콤한", "고소한", "산지직송", "든든한"),
}
PREFIXES = ("", "", "", "", "[단독] ", "[1+1] ", "[한정판] ", "[오늘출발] ")
COMMUNITY = "장터스냅"  # the shop's invented community, as in "장터스냅 후기 추천 와이드 데님"
FEATURES = (
    "부드러운 촉감이 오래 유지됩니다",
    "가볍고 편안해서 매일 손이 가요",
    "꼼꼼한 마감으로 오래 쓸 수 있습니다",
    "누구에게나 잘 어울리는 기본 디자인입니다",
    "고객 후기 평점 4.8점의 스테디셀러입니다",
    "선물하기 좋은 패키지로 보내 드려요",
    "오늘 주문하면 내일 받아볼 수 있어요",
)
CARE = {
    "패션": "단독 손세탁을 권장합니다. 모니터에 따라 색상이 조금 다르게 보일 수 있습니다.",
    "뷰티": "직사광선을 피해 서늘한 곳에 보관해 주세요. 피부 이상 시 사용을 중단해 주세요.",
    "리빙": "처음 사용 전 한 번 세척해 주세요.",
    "식품": "개봉 후에는 냉장 보관하고 빨리 드세요. 알레르기 성분을 확인해 주세요.",
}


class _PastClock:
    """The clock moved back by a fixed amount, so demo products have different ages."""

    def __init__(self, clock: Clock, ago: timedelta) -> None:
        self._clock, self._ago = clock, ago

    def now(self) -> datetime:
        return self._clock.now() - self._ago


def _product_name(rng: random.Random, top: str, item: Item) -> tuple[str, str]:
    material = rng.choice(item.materials)
    adjective = rng.choice(ADJECTIVES[top])
    style = rng.randrange(6)
    if style == 0:
        # written joined, as shops and reviews often do: search must still find 니트 in it
        name = f"{material}{item.name}".replace(" ", "")
    elif style == 1 and top == "패션":
        name = f"{COMMUNITY} 후기 추천 {adjective} {item.name}"
    else:
        name = f"{rng.choice(PREFIXES)}{adjective} {material} {item.name}"
    return name.strip(), material


def _description(rng: random.Random, top: str, item: Item, material: str) -> str:
    first, second = rng.sample(FEATURES, 2)
    return f"{material} {item.name}입니다. {first}. {second}. {CARE[top]}"


def _price(rng: random.Random, low: int, high: int) -> tuple[int, int]:
    price = rng.randrange(low, high + 1) // 100 * 100
    if rng.random() < 0.45:
        # a list price 10–40 % above, so the shop shows discounts
        list_price = (price * rng.randrange(110, 141) // 100) // 100 * 100
        return price, max(list_price, price)
    return price, price


def _variants(rng: random.Random, line: Line, sold_out: bool) -> list[dict[str, Any]]:
    option_types = [
        (name, rng.sample(values, min(len(values), rng.randrange(2, 5))))
        for name, values in line.options
    ]
    combos: list[dict[str, str]] = [{}]
    for name, values in option_types:
        combos = [{**combo, name: value} for combo in combos for value in values]
    stocks = (0, 0, 2, 5, 8, 12, 20, 35, 50)
    return [{"options": combo, "stock": 0 if sold_out else rng.choice(stocks)} for combo in combos]


def _option_types(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    values: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant["options"].items():
            if value not in values.setdefault(name, []):
                values[name].append(value)
    return [{"name": name, "values": vals} for name, vals in values.items()]


def _picture(color: tuple[int, int, int], accent: tuple[int, int, int], shape: int) -> bytes:
    """A soft two-tone placeholder picture, made here instead of downloaded."""
    image = Image.new("RGB", (480, 480), color)
    draw = ImageDraw.Draw(image)
    if shape == 0:
        draw.ellipse((120, 120, 360, 360), fill=accent)
    elif shape == 1:
        draw.rounded_rectangle((110, 150, 370, 330), radius=40, fill=accent)
    else:
        draw.polygon([(240, 100), (380, 360), (100, 360)], fill=accent)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _write_pictures(directory: Path, pictures: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in pictures.items():
        (directory / name).write_bytes(data)


async def _seed_accounts(platform: Platform) -> None:
    password_hash = await platform.hasher.hash(DEMO_PASSWORD)
    async with platform.db.write() as session:
        for email, nickname, roles in DEMO_ACCOUNTS:
            try:
                await accounts.create_member(
                    session,
                    platform.clock,
                    email=email,
                    nickname=nickname,
                    password_hash=password_hash,
                    roles=roles,
                )
            except DomainError:
                continue  # already there from an earlier seeding


async def _seed_coupons(session: Any, clock: Clock, knit_category: uuid.UUID) -> None:
    now = clock.now()
    specs = [
        {
            "code": "WELCOME-10",
            "name": "첫 구매 10% 할인",
            "kind": "percent",
            "value": 10,
            "max_discount": 5000,
            "min_order_amount": 20000,
        },
        {
            "code": "HELLO-3000",
            "name": "3,000원 할인",
            "kind": "fixed",
            "value": 3000,
            "min_order_amount": 30000,
        },
        {
            "code": "KNIT-15",
            "name": "니트 15% 할인",
            "kind": "percent",
            "value": 15,
            "max_discount": 20000,
            "target_category_ids": [knit_category],
            "total_limit": 100,
        },
    ]
    for spec in specs:
        try:
            await coupons.create_coupon(
                session,
                clock,
                {**spec, "starts_at": now, "ends_at": now + timedelta(days=90)},
            )
        except DomainError:
            continue  # the code is taken by an earlier seeding


@dataclass(frozen=True)
class DemoProduct:
    """One generated product, before it has ids."""

    brand: str
    category: str
    name: str
    description: str
    tags: list[str]
    price: int
    list_price: int
    variants: list[dict[str, Any]]
    status: str
    sold: int
    picture: tuple[tuple[int, int, int], tuple[int, int, int], int]  # colour, accent, shape


def demo_products(seed: int = SEED, count: int = PRODUCT_COUNT) -> list[DemoProduct]:
    """The demo products, the same for the same seed (no database, no clock)."""
    rng = random.Random(seed)
    leaves_of = {top: list(leaves.items()) for top, leaves in CATALOG.items()}
    products = []
    for n in range(count):
        brand, _, tops = BRANDS[n % len(BRANDS)]
        top = rng.choice(tops)
        leaf, line = rng.choice(leaves_of[top])
        item = rng.choice(line.items)
        name, material = _product_name(rng, top, item)
        price, list_price = _price(rng, *item.price)
        accent = tuple(max(0, c - rng.randrange(40, 90)) for c in line.color)
        products.append(
            DemoProduct(
                brand=brand,
                category=leaf,
                name=name,
                description=_description(rng, top, item, material),
                tags=rng.sample(line.tags, 2),
                price=price,
                list_price=list_price,
                variants=_variants(rng, line, sold_out=rng.random() < 0.06),
                status="active" if rng.random() > 0.03 else "draft",
                # a few bestsellers, a long tail of slow sellers
                sold=max(0, int(rng.paretovariate(1.2) * 3) - 3),
                picture=(line.color, accent, rng.randrange(3)),  # type: ignore[arg-type]
            )
        )
    return products


async def seed_demo(platform: Platform, *, if_empty: bool) -> bool:
    """Load the demo shop; False (and nothing done) when `if_empty` and products exist."""
    if if_empty:
        async with platform.db.read() as session:
            if await catalog.count_products(session) > 0:
                return False
    clock = platform.clock
    pictures: dict[str, bytes] = {}
    async with platform.db.write() as session:
        categories: dict[str, uuid.UUID] = {}
        for position, (top, leaves) in enumerate(CATALOG.items()):
            parent = await catalog.create_category(session, clock, name=top, position=position)
            categories[top] = parent.id
            for leaf_position, leaf in enumerate(leaves):
                child = await catalog.create_category(
                    session, clock, name=leaf, parent_id=parent.id, position=leaf_position
                )
                categories[leaf] = child.id
        brands: dict[str, uuid.UUID] = {}
        for name, name_en, _ in BRANDS:
            brand = await catalog.create_brand(
                session,
                clock,
                name=name,
                name_en=name_en,
                description=f"{name}의 공식 스토어입니다.",
            )
            brands[name] = brand.id

        products = demo_products()
        sales: dict[uuid.UUID, int] = {}
        for n, spec in enumerate(products):
            product = await catalog.create_product(
                session,
                # older products first, an hour apart, so "new" has something to sort
                _PastClock(clock, timedelta(hours=len(products) - n)),
                brand_id=brands[spec.brand],
                category_id=categories[spec.category],
                name=spec.name,
                price=spec.price,
                list_price=spec.list_price,
                description=spec.description,
                tags=spec.tags,
                option_types=_option_types(spec.variants),
                status=spec.status,  # type: ignore[arg-type]
                variants=spec.variants,
            )
            file_name = f"{uuid7().hex}.png"
            pictures[file_name] = _picture(*spec.picture)
            await catalog.add_product_image(
                session, clock, product.id, url=catalog.MEDIA_URL_PREFIX + file_name, alt=spec.name
            )
            sales[product.id] = spec.sold
        await catalog.record_sales(session, sales)
        await _seed_coupons(session, clock, categories["니트"])
        # written before the commit, so that no image row ever points at a missing file
        media_dir = Path(platform.settings.media_dir) / "products"
        await anyio.to_thread.run_sync(_write_pictures, media_dir, pictures)
    await _seed_accounts(platform)
    await platform.db.analyze()
    return True
