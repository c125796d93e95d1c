"""Recognise Sichuan prefectures (市州) and counties (区县) in text.

Backed by data/gazetteer/sichuan_divisions.json; its .md documents the fields,
the ambiguous short names and the substring pitfalls this module guards against.

Matching is leftmost-longest over a table of Chinese surface forms, each with a
*kind* that says how much evidence it needs (see `_accept`). Precision comes
first: a missed mention costs a little recall, a false one puts an item under
the wrong place. The province (四川/川/蜀) is deliberately not a place here.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.paths import DATA_DIR

DEFAULT_PATH = DATA_DIR / "gazetteer" / "sichuan_divisions.json"


@dataclass(frozen=True)
class Place:
    name: str  # official full name: "大竹县", "阿坝藏族羌族自治州"
    code: str  # "511724"
    level: str  # "city" (prefecture-level) or "county"
    city: str  # full name of the prefecture; for a city, itself
    english: str  # "Dazhu", "Aba (Ngawa)"

    @property
    def label(self) -> str:
        return self.name if self.level == "city" else f"{self.city} › {self.name}"


@dataclass(frozen=True)
class PlaceMention:
    place: Place
    start: int
    end: int
    surface: str


# Kinds of Chinese surface forms, from most to least trusted.
_FULL = "full"  # full name, alias (阿坝州, 北川县, 内江市中区), former name (会理县): always
_WEAK = "weak"  # one-character stem + suffix (高县, 理县, 荣县): also needs a clean left edge
_CONTEXT = "context"  # 市中区 (twice in Sichuan), 东区, 西区: only right after their own city
_CITY = "city_short"  # 达州, 成都, 阿坝: matched unless inside another word
_COUNTY = "county_short"  # 大竹, 隆昌: needs evidence in the text (see _accept)
# 南部, 大英, 新都, 峨眉山: also ordinary words, need the suffix or own city
_COMMON = "common_short"

# Generic direction-words that are also district names (攀枝花市东区/西区).
_GENERIC_NAMES = {"东区", "西区"}

# Names in use before recent re-designations; older bulletins still write them.
# (Single-stem 达县/安县 are left out: "到达县城", "平安县城".)
_FORMER_NAMES = {
    "会理县": "513402",
    "射洪县": "510981",
    "隆昌县": "511083",
    "新津县": "510118",
    "双流县": "510116",
    "郫县": "510117",
    "罗江县": "510604",
    "南溪县": "511503",
    "名山县": "511803",
    "马尔康县": "513201",
    "康定县": "513301",
}

# Two-character words whose second character starts a place name: "推广安全" is not 广安,
# "峨眉山" not 眉山, "提高县级" not 高县, "内华达州" not 达州. A form starting at i is rejected when
# text[i-1:i+1] is one of these (unless a place ends at i). Left out on purpose, because their
# first character often ends a word of its own that precedes a name: 省内/市长/年内/省会/年会
# ("四川省内江市", "宜宾市长宁县", "2023年会理市"), 合成/建成/达成 ("综合成都市", "抵达成都"),
# 传达/发达 ("宣传达州", "开发达州"), 共荣 ("中共荣县县委"), 和平/从中/同仁 ("江油市和平武县").
_CROSSING_WORDS = frozenset(
    """
    形成 完成 促成 变成 造成 赞成 养成 落成 生成 集成
    国内 境内 域内 党内 体内 室内 校内 推广 宽广 快乐 娱乐 音乐 欢乐 安乐 康乐 可乐 俱乐
    投资 融资 工资 物资 外资 出资 合资 集资 师资 引资 筹资 各自 独自 亲自 来自 擅自 源自
    道德 品德 美德 公德 师德 医德 湖南 云南 河南 海南 西南 东南 华南 江南 济南 岭南 以南 指南 越南
    峨眉 优雅 高雅 典雅 文雅 淡雅 儒雅 适宜 便宜 事宜 相宜
    社会 学会 大会 机会 体会 领会 全会 例会 开会 协会 议会 聚会 宴会 盛会 晚会 工会 教会
    今天 当天 每天 昨天 明天 聊天 春天 夏天 秋天 冬天 前天 后天 天天 整天 半天 白天 航天 蓝天
    获得 取得 赢得 值得 记得 懂得 觉得 使得 显得 难得 心得 博得
    管理 治理 处理 办理 整理 清理 经理 代理 助理 护理 合理 真理 道理 心理 地理 物理 原理 总理
    梳理 审理 受理 修理 推理 伦理 条理 料理 监理 打理 协理
    提高 升高 最高 崇高 增高 较高 更高 很高 拔高 抬高 偏高 调高 繁荣 光荣 殊荣 尊荣 虚荣
    繁茂 丰茂 沟渠 水渠 河渠 长江 浙江 珠江 钱江 闽江 沿江 岷江 沙江 陵江 大江
    振兴 复兴 新兴 中兴 高兴 助兴 即兴 兴旺 兴隆 公平 水平 太平 持平
    交通 沟通 畅通 互通 开通 贯通 打通 流通 普通 精通 融通 疏通
    其中 集中 当中 之中 高中 初中 心中 空中 期中 手中 眼中 途中 暗中
    召开 展开 公开 打开 离开 分开 放开 敞开 运营 民营 军营 阵营
    创新 更新 重新 全新 最新 清新 革新 崭新 刷新 翻新 一新 东西 广西 以西 巴西 陕西
    资金 基金 黄金 现金 奖金 租金 美金 薪金 赞美 完美 优美 审美 精美 健美 甜美 秀美
    超越 卓越 穿越 跨越 优越 平安 公安 治安 保安 安宁
    延长 成长 增长 家长 校长 局长 部长 院长 队长 组长 站长 所长 科长 处长 社长 会长
    擅长 专长 特长 生长
    伟大 强大 巨大 重大 扩大 远大 盛大 放大 壮大 庞大 宏大 防洪 山洪 抗洪 泄洪
    泥沙 风沙 岩石 宝石 钻石 化石 基石 砂石 矿石 玉石 考古 怀古 复古 自古 千古
    结合 综合 配合 联合 符合 融合 整合 组合 适合 契合 大米 玉米 厘米 千米 平米 食盐
    采纳 接纳 吸纳 缴纳 容纳 归纳 出纳 连绵 缠绵 旅游 导游 上游 下游 中游 出游
    东北 西北 华北 河北 湖北 南北 以北 胜利 权利 福利 水利 便利 顺利 王朝 清朝 明朝 唐朝
    宝剑 刀剑 渔船 轮船 帆船 发射 辐射 注射 照射 投射 反射 广东 股东 房东 华东 权威 示威
    油井 水井 天井 矿井 上马 出马 赛马 理顺 孝顺 通顺 礼仪 司仪 荧屏 银屏 文武 威武
    毗邻 睦邻 近邻 中华 精华 繁华 豪华 法宝 珍宝 瑰宝 感恩 报恩
    尾巴 嘴巴 下巴 泥巴 轻松 放松 宽松 大小 缩小 最小 倘若 假若 网红 走红
    健康 小康 安康 报道 渠道 知道 街道 频道 通道 特色 红色 绿色 出色 角色 本色 颜色 景色 金色
    城乡 家乡 故乡 下乡 返乡 老乡 回乡 树木 林木 苗木 发布 公布 宣布 分布 颁布 遍布 可喜 惊喜
    高温 气温 首都 推崇 尊崇 丰富 财富 致富 华达 里达 苏达 兰达 歌乐 清凉
""".split()
)

# Evidence after a county short that it names the place: 隆昌籍, 隆昌人民, 天全年鉴.
_COUNTY_CONTINUATIONS = ("籍", "人", "年鉴")
# Characters that may stand right before a one-stem county: 在高县, 与珙县, 中共荣县.
_PARTICLES = set("在和与及对赴到至从向是为由同把将据即共")

_TYPE_WORDS_COUNTY = ("county", "district", "city", "xian", "qu", "shi")
_TYPE_WORDS_CITY = ("city", "prefecture", "shi")
_EN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’`][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class _Form:
    kind: str
    places: tuple[Place, ...]  # more than one only for 市中区 (kind _CONTEXT)


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """ê -> e, ü -> u; one character in, one out, so offsets survive folding."""
    if ch.isascii():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def _fold(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


def _english_names(entry: dict) -> list[str]:
    """A division's English names: "Aba (Ngawa)" -> ["Aba", "Ngawa"]."""
    raws = [entry.get("english"), entry.get("english_alt"), entry.get("english_full")]
    names = [n for raw in raws for n in ([raw] if isinstance(raw, str) else raw or [])]
    return [part.strip() for n in names for part in re.split(r"[()]", n) if part.strip()]


def _en_key(text: str) -> str:
    """Lookup key for English/pinyin: Guang'an District -> guangandistrict, Garzê -> garze."""
    return re.sub(r"[^a-z0-9]", "", _fold(text).lower())


class Gazetteer:
    """Sichuan's 21 prefecture-level and 183 county-level divisions, with matchers."""

    def __init__(self, data: dict):
        self._cities: list[Place] = []
        self._counties: dict[str, list[Place]] = {}  # city full name -> counties
        self._forms: dict[str, _Form] = {}
        self._english: dict[str, Place] = {}
        self._shorts: dict[str, str] = {}  # code -> short name: "达州", "大竹"
        self._max_en_words = 1  # longest English name in words, plus city and type words
        self._build(data)
        self._maxlen = max(map(len, self._forms))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Gazetteer":
        return cls(json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8")))

    # ---- building -------------------------------------------------------------------
    def _build(self, data: dict) -> None:
        forms: dict[str, list[tuple[str, Place]]] = {}  # surface -> (kind, place) entries
        english: dict[str, list[Place]] = {}  # English/pinyin key -> places
        self._add_divisions(data, forms, english)
        self._index(forms, english)

    def _add_divisions(
        self, data: dict, forms: dict[str, list[tuple[str, Place]]], english: dict[str, list[Place]]
    ) -> None:
        """Every city and county under each of its names (full, short, aliases, former names,
        English) into forms and english."""

        def add(surface: str, kind: str, place: Place) -> None:
            forms.setdefault(surface, []).append((kind, place))

        common = {
            a["short"] for a in data.get("ambiguous_shorts", []) if a["scope"] == "common_word"
        }
        names = [k["name"] for c in data["cities"] for k in c["counties"]]
        repeated = {n for n in names if names.count(n) > 1}  # 市中区
        by_code: dict[str, Place] = {}
        for c in data["cities"]:
            city = Place(c["name"], c["code"], "city", c["name"], c["english"])
            self._cities.append(city)
            self._counties[city.name] = []
            add(city.name, _FULL, city)
            add(c["short"], _CITY, city)
            self._shorts[city.code] = c["short"]
            for alias in c.get("aliases", []):
                add(alias, _FULL, city)
            self._add_english(english, c, city, [""])
            city_keys = ["", *map(_en_key, _english_names(c))]
            for k in c["counties"]:
                county = Place(k["name"], k["code"], "county", city.name, k["english"])
                by_code[county.code] = county
                self._counties[city.name].append(county)
                if county.name in repeated or county.name in _GENERIC_NAMES:
                    add(county.name, _CONTEXT, county)
                else:
                    add(county.name, _WEAK if len(county.name) == 2 else _FULL, county)
                self._shorts[county.code] = k["short"]
                if k["short"] != county.name:
                    add(k["short"], _COMMON if k["short"] in common else _COUNTY, county)
                for alias in k.get("aliases", []):
                    add(alias, _FULL, county)
                self._add_english(english, k, county, city_keys)
        for name, code in _FORMER_NAMES.items():
            add(name, _FULL, by_code[code])

    def _add_english(
        self, english: dict[str, list[Place]], entry: dict, place: Place, prefixes: list[str]
    ) -> None:
        type_words = _TYPE_WORDS_CITY if place.level == "city" else _TYPE_WORDS_COUNTY
        for name in _english_names(entry):
            self._max_en_words = max(self._max_en_words, len(name.split()) + 2)
            for prefix in prefixes:  # "" or the city: "Leshan Shizhong District"
                key = prefix + _en_key(name)
                english.setdefault(key, []).append(place)
                if not key.endswith(("county", "district", "prefecture")):
                    for word in type_words:  # "Dazhu county", "Dazhou City"
                        english.setdefault(key + word, []).append(place)

    def _index(
        self, forms: dict[str, list[tuple[str, Place]]], english: dict[str, list[Place]]
    ) -> None:
        """The matchers' tables: one form per surface (ambiguity is an error in the data), one
        place per English key."""
        for surface, entries in forms.items():
            kinds = {kind for kind, _ in entries}
            if len(entries) > 1 and kinds != {_CONTEXT}:
                raise ValueError(f"gazetteer: surface {surface!r} is ambiguous: {entries}")
            self._forms[surface] = _Form(entries[0][0], tuple(p for _, p in entries))
        for key, places in english.items():
            place = _prefer(key, places)
            if place is not None:
                self._english[key] = place

    # ---- lookup ---------------------------------------------------------------------
    def cities(self) -> list[Place]:
        return list(self._cities)

    def counties_of(self, city: str) -> list[Place]:
        place = self.resolve(city)
        return list(self._counties[place.name]) if place and place.level == "city" else []

    def short_name(self, place: Place) -> str:
        """The short form staff write in lists: 达州市 -> 达州, 阿坝藏族羌族自治州 -> 阿坝, 大竹县
        -> 大竹."""
        return self._shorts.get(place.code, place.name)

    def words(self) -> list[str]:
        """Chinese full names, shorts, aliases and former names, for a segmentation dictionary."""
        return sorted(self._forms, key=lambda w: (-len(w), w))

    def resolve(self, name: str) -> Place | None:
        name = name.strip()
        form = self._forms.get(name)
        if form is not None:
            return form.places[0] if len(form.places) == 1 else None  # bare 市中区: which one?
        place = self._english.get(_en_key(re.sub(r"['’]s$", "", name)))
        if place is not None:
            return place
        # Qualified forms such as "成都市新都区", "乐山市 市中区", "Dazhu County, Dazhou".
        mentions = self.find_in_query(name)
        rest = list(name)
        for m in mentions:
            rest[m.start : m.end] = [""] * (m.end - m.start)
        if not mentions or re.sub(r"[\s,，、·/›>-]", "", "".join(rest)):
            return None
        counties = [m.place for m in mentions if m.place.level == "county"]
        return (counties or [m.place for m in mentions])[-1]

    # ---- recognition ----------------------------------------------------------------
    def find(self, text: str) -> list[PlaceMention]:
        """Chinese mentions, non-overlapping, left to right."""
        return self._find_chinese(text, query=False)

    def places_in(self, text: str) -> list[Place]:
        return list(dict.fromkeys(m.place for m in self.find(text)))

    def find_in_query(self, text: str) -> list[PlaceMention]:
        """Like find, plus English/pinyin names; shorts of counties are accepted more freely."""
        mentions = self._find_chinese(text, query=True) + self._find_english(text)
        return sorted(mentions, key=lambda m: m.start)

    def _find_chinese(self, text: str, query: bool) -> list[PlaceMention]:
        # Two passes: a county written out in full anywhere in the text vouches for its
        # bare short elsewhere in the same text ("宁南县……幸福宁南").
        first = self._scan(text, query, confirmed=frozenset())
        confirmed = frozenset(m.place for m in first if m.place.level == "county")
        return self._scan(text, query, confirmed) if confirmed else first

    def _scan(self, text: str, query: bool, confirmed: frozenset[Place]) -> list[PlaceMention]:
        out: list[PlaceMention] = []
        i = 0
        while i < len(text):
            hit = self._match_at(text, i, out[-1] if out else None, query, confirmed)
            if hit is None:
                i += 1
            else:
                out.append(hit)
                i = hit.end
        return out

    def _match_at(self, text, i, prev, query, confirmed) -> PlaceMention | None:
        for end in range(min(len(text), i + self._maxlen), i + 1, -1):  # longest first
            form = self._forms.get(text[i:end])
            if form is not None:
                place = self._accept(form, text, i, end, prev, query, confirmed)
                if place is not None:
                    return PlaceMention(place, i, end, text[i:end])
        return None

    def _accept(
        self,
        form: _Form,
        text: str,
        start: int,
        end: int,
        prev: PlaceMention | None,
        query: bool,
        confirmed: frozenset[Place],
    ) -> Place | None:
        """The place this occurrence of `form` names, or None when the evidence is too thin."""
        after_place = prev is not None and not text[prev.end : start].strip()
        if not after_place and start > 0 and text[start - 1 : start + 1] in _CROSSING_WORDS:
            return None  # first character belongs to the word before: 推广|安全, 峨眉|山
        city_before = prev.place.name if after_place and prev.place.level == "city" else None
        if form.kind == _CONTEXT:  # 乐山市市中区, 攀枝花市东区
            return next((p for p in form.places if p.city == city_before), None)
        place = form.places[0]
        if form.kind == _FULL:
            return None if self._is_districts_and_counties(place, text, end) else place
        if self._full_name_inside(text, start, end):
            return None  # "完成都江堰市": the full name wins over a short it overlaps
        if form.kind == _CITY:
            return place
        own_city = city_before == place.city  # 内江隆昌, 成都新都
        left_clean = start == 0 or after_place or not _is_han(text[start - 1])
        right_clean = end == len(text) or not _is_han(text[end])
        if form.kind == _WEAK:  # 高县 but not 提高县级
            ok = left_clean or own_city or text[start - 1] in _PARTICLES
        elif text.startswith(("县", "区", "市"), end):
            ok = False  # a short with the wrong suffix is another place: 上海长宁区
        elif form.kind == _COMMON:  # 新都区, 成都新都, 《武侯年鉴》; a bare "新都" only in a query
            ok = own_city or text.startswith("年鉴", end) or (query and left_clean and right_clean)
        else:  # _COUNTY: 大竹, 隆昌
            ok = (
                query
                or own_city
                or place in confirmed
                or text.startswith(_COUNTY_CONTINUATIONS, end)
                or (left_clean and right_clean)
            )
        return place if ok else None

    def _is_districts_and_counties(self, place: Place, text: str, end: int) -> bool:
        """True for 广安区县 / 广安区（市）县: the districts and counties of 广安, not 广安区."""
        stem = self._forms.get(place.name[:-1])
        return (
            place.level == "county"
            and stem is not None
            and stem.kind == _CITY
            and text.startswith(("县", "（市）县", "(市)县"), end)
        )

    def _full_name_inside(self, text: str, start: int, end: int) -> bool:
        for k in range(start + 1, end):
            for stop in range(min(len(text), k + self._maxlen), end, -1):
                form = self._forms.get(text[k:stop])
                if form is not None and form.kind == _FULL:
                    return True
        return False

    def _find_english(self, text: str) -> list[PlaceMention]:
        """Pinyin/English names on word boundaries, case-insensitive, diacritics ignored."""
        folded = _fold(text)
        tokens = []
        for m in _EN_WORD.finditer(folded):
            s, e = m.span()
            if re.search(r"['’`][sS]$", m.group()):
                e -= 2  # "Chengdu's"
            tokens.append((s, e))
        out, t = [], 0
        while t < len(tokens):
            for n in range(min(self._max_en_words, len(tokens) - t), 0, -1):
                span = tokens[t : t + n]
                if any(folded[a[1] : b[0]].strip(" \t-") for a, b in zip(span, span[1:])):
                    continue  # words must be adjacent: "Dazhu County", not "Dazhu, county"
                s, e = span[0][0], span[-1][1]
                place = self._english.get(_en_key(folded[s:e]))
                if place is not None:
                    out.append(PlaceMention(place, s, e, text[s:e]))
                    t += n
                    break
            else:
                t += 1
        return out


def _prefer(key: str, places: list[Place]) -> Place | None:
    """One place per English key: "Ngawa" is the prefecture, "Ngawa County" the county."""
    unique = list(dict.fromkeys(places))
    if len(unique) == 1:
        return unique[0]
    level = "county" if key.endswith(("county", "district", "xian", "qu")) else "city"
    preferred = [p for p in unique if p.level == level]
    return preferred[0] if len(preferred) == 1 else None  # "Shizhong District": two of them


@functools.lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    return Gazetteer.load()
