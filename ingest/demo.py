"""Deterministic demo-city generator: a 揭阳-like city in the ingest-contract formats.

``generate_city(directory, size=..., seed=..., today=...)`` writes one file per kind
with the canonical Chinese headers of ``shared/spec/ingest-contract.md`` (the same
files real offices export), plus ``manifest.json``.  The same seed, size and date give
byte-identical files.

Choices (documented here because downstream tests rely on them):

* Organisation count ``SIZES[size]`` is the number of *good* organisations; bad rows
  are extra rows on top (``counts`` includes them, ``bad_rows`` counts them, and
  ``bad_reasons`` gives the reason code per kind).  Exact duplicate rows are listed
  as ``exact_duplicate``: ingest merges them instead of quarantining them.  A
  conflicting duplicate is a pair of rows (both counted) on a USCC used nowhere else.
* Professional firms (律师事务所, 会计师事务所, 税务师事务所) are in ``social_orgs.csv``
  with an empty 社会组织类型 and an extra raw column 机构类别 (for the statistics
  sheet).  Law firms carry USCC prefix ``31`` (司法 / 律师执业机构), the others ``91``.
* ``social_orgs.csv`` is GB18030 (as civil-affairs exports often are); every other CSV
  is UTF-8 with BOM.
* ``annual_reports`` is XLSX for ``small`` and ``city`` (建立时间 as date cells, Excel
  serial numbers and text) and CSV for ``province`` (xlsxwriter would dominate the
  run time); the CSV keeps the serial numbers as text.
* Enterprises carry an extra column 注册号 (empty except for ``legacy_id_only`` rows).
* Two good enterprises have hostile names (a spreadsheet formula and an HTML tag); they
  are valid rows that test escaping downstream.
* USCC check characters are computed here (GB 32100, identical to
  ``stdnum.cn.uscc.calc_check_digit`` but with a cached prefix sum, ~10x faster at
  province size); the tests check them with ``stdnum``.
"""

from __future__ import annotations

import csv
import json
import random
from array import array
from bisect import bisect
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, TextIO

import xlsxwriter
from faker import Faker

from ingest import demo_names as dn

SIZES: Final[dict[str, int]] = {"small": 1_000, "city": 100_000, "province": 1_000_000}

HEADERS: Final[dict[str, tuple[str, ...]]] = {
    "regions": ("区划代码", "名称", "上级区划代码"),
    "committees": ("编码", "名称", "类型", "上级编码", "主管行业", "主管组织类型", "区划代码", "所辖园区"),
    "enterprises": ("统一社会信用代码", "企业名称", "企业类型", "登记状态", "成立日期", "行业代码",
                    "区划代码", "从业人数", "是否规上", "所在园区", "所在楼宇", "住所", "法定代表人",
                    "注册号"),
    "social_orgs": ("统一社会信用代码", "社会组织名称", "社会组织类型", "登记状态", "成立日期",
                    "区划代码", "从业人数", "是否行业协会商会", "业务主管单位", "是否党建入章",
                    "会员单位", "机构类别"),
    "party_orgs": ("党组织编码", "党组织名称", "党组织类别", "组建方式", "上级党组织编码", "覆盖单位",
                   "统建范围", "成立日期", "状态", "是否设立支委会"),
    "members": ("党员编号", "姓名", "身份证号", "党员类型", "所在党组织编码", "工作单位信用代码", "职业",
                "是否流动党员", "是否管理层", "联系电话"),
    "instructors": ("指导员编号", "姓名", "联系单位", "派出单位", "选派日期"),
    "alliances": ("联盟编码", "联盟名称", "产业链", "链主信用代码", "成员单位", "牵头党组织编码", "成立日期"),
    "supply_links": ("上游信用代码", "下游信用代码", "关系类型", "产业链"),
    "annual_reports": ("统一社会信用代码", "年度", "党员人数", "是否建立党组织", "组建方式", "建立时间"),
    "verifications": ("统一社会信用代码", "核查结果", "核查日期", "说明"),
}  # fmt: skip

HOSTILE_NAMES: Final = (
    '=HYPERLINK("http://example.com","点击查看")',
    "<script>alert(1)</script>有限公司",
)
UNKNOWN_PARTY_ORG: Final = "D445200999999"

_ALPHA: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_IDX: Final = {c: i for i, c in enumerate(_ALPHA)}
_USCC_W: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_W: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_W: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_PREFIX_SUM: dict[str, int] = {}

# organisation kinds
ENT, ASSOC, SOCIETY, MINFEI, FOUNDATION, PROF = range(6)
_SOCIAL_TYPE: Final = {ASSOC: "社会团体", SOCIETY: "社会团体", MINFEI: "民办非企业单位",
                       FOUNDATION: "基金会", PROF: ""}  # fmt: skip
# coverage marks
NONE, STANDALONE, JOINT, AREA, IMPLICIT = range(5)


def id_check_char(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character of a citizen ID number."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_W)) % 11]


def org_code_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _ORG_W))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def uscc_check(first17: str) -> str:
    """GB 32100 check character (same result as ``stdnum.cn.uscc.calc_check_digit``)."""
    head = first17[:8]
    base = _PREFIX_SUM.get(head)
    if base is None:
        base = _PREFIX_SUM[head] = sum(_IDX[c] * w for c, w in zip(head, _USCC_W))
    total = base + sum(_IDX[c] * w for c, w in zip(first17[8:], _USCC_W[8:]))
    return _ALPHA[(31 - total) % 31]


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`generate_city` wrote."""

    directory: Path
    files: dict[str, Path]
    counts: dict[str, int]
    bad_rows: dict[str, int]
    seed: int
    size: str
    #: kind -> reason code -> rows (``exact_duplicate`` rows are merged, not quarantined)
    bad_reasons: dict[str, dict[str, int]] = field(default_factory=dict)


def _weighted(items: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float], float]:
    cum, total = [], 0.0
    for _, w in items:
        total += w
        cum.append(total)
    return [v for v, _ in items], cum, total


class _City:
    """All generator state: one pass builds organisations, then each kind is written."""

    def __init__(self, directory: Path, size: str, seed: int, today: date) -> None:
        self.dir, self.size, self.seed, self.today = directory, size, seed, today
        self.n = SIZES[size]
        self.rng = random.Random(f"fugai-demo:{seed}")
        self.counts: dict[str, int] = {}
        self.bad: dict[str, dict[str, int]] = {k: {} for k in HEADERS}
        self.files: dict[str, Path] = {}
        self._code_seq = 0
        self._mul, self._off = 48271 * 31 + 2, self.rng.randrange(10**8)  # odd, not /5, not /31
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.people = list(dict.fromkeys(fake.name() for _ in range(3000)))
        prefixes = list(dict.fromkeys(fake.company_prefix() for _ in range(400)))
        chars = sorted({c for p in prefixes for c in p})
        words = dict.fromkeys(p for p in prefixes if len(p) <= 3)
        while len(words) < 2000:
            words[self.rng.choice(chars) + self.rng.choice(chars)] = None
        self.words = list(words)
        self.roads = list(dict.fromkeys(fake.street_name() for _ in range(300)))
        n_streets = 3 if size == "small" else 12 if size == "city" else 15
        self.county_codes = list(dn.COUNTIES)
        self.streets = [(c, f"{c}{j + 1:03d}", dn.STREETS[c][j])
                        for c in self.county_codes for j in range(n_streets)]  # fmt: skip
        self.streets_of = {c: [k for k, s in enumerate(self.streets) if s[0] == c]
                           for c in self.county_codes}  # fmt: skip
        self.parks = list(dn.PARKS)
        self.buildings = list(dn.BUILDINGS)
        self.committee = {s: f"GW{dn.CITY_CODE}{s}" for s, *_ in dn.COMMITTEES}
        self.ind_prefixes = sorted(((p, self.committee[s]) for s, _, _, inds, _, _ in dn.COMMITTEES
                                    for p in inds.split(";") if p), key=lambda t: -len(t[0]))  # fmt: skip

    # -- small helpers -------------------------------------------------------------
    def new_uscc(self, prefix2: str, county: str) -> str:
        """A fresh, unique, valid USCC (unique org code: an affine bijection of a counter)."""
        k = self._code_seq
        self._code_seq += 1
        u = (k * self._mul + self._off) % 887_503_681  # 31**6
        if k % 2:
            body = "MA" + "".join(_ALPHA[(u // 31**e) % 31] for e in range(5, -1, -1))
        else:
            body = f"{(k * 73939133 + self._off) % 10**8:08d}"
        first17 = prefix2 + county + body + org_code_check(body)
        return first17 + uscc_check(first17)

    def date_str(self, d: date, style: float | None = None) -> str:
        s = self.rng.random() if style is None else style
        if s < 0.6:
            return d.isoformat()
        if s < 0.85:
            return f"{d.year}/{d.month:02d}/{d.day:02d}"
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"

    def rand_date(self, start: date, end_days_ago: int = 1) -> date:
        lo, hi = start.toordinal(), self.today.toordinal() - end_days_ago
        return date.fromordinal(self.rng.randrange(lo, max(lo + 1, hi)))

    def writer(self, kind: str, encoding: str = "utf-8-sig") -> tuple[TextIO, Any]:
        path = self.dir / f"{kind}.csv"
        self.files[kind] = path
        fh = path.open("w", encoding=encoding, newline="")
        w = csv.writer(fh)
        w.writerow(HEADERS[kind])
        return fh, w

    def mark_bad(self, kind: str, reason: str, n: int = 1) -> None:
        self.bad[kind][reason] = self.bad[kind].get(reason, 0) + n

    # -- organisations -------------------------------------------------------------
    def build_orgs(self) -> None:
        """Core attributes of every good organisation (names, codes, places, size)."""
        rng, r, n = self.rng, self.rng.random, self.n
        inds, ind_cw, ind_t = _weighted([(c, w) for c, (w, _) in dn.INDUSTRIES.items()])
        types, type_cw, type_t = _weighted([(t, v[0]) for t, v in dn.ENTITY_TYPES.items()])
        self.type_names = types
        county_w = _weighted([(c, v[1]) for c, v in dn.COUNTIES.items()])
        park_w = _weighted([(k, v[1]) for k, v in enumerate(dn.PARKS.values())])
        park_inds = [[c for c in inds if c.startswith(v[2])] for v in dn.PARKS.values()]
        bld_of = {c: [k for k, b in enumerate(self.buildings) if dn.BUILDINGS[b] == c]
                  for c in self.county_codes}  # fmt: skip
        social_w = _weighted([(PROF, 8.0), (ASSOC, 25.0), (SOCIETY, 17.0), (MINFEI, 45.0),
                              (FOUNDATION, 5.0)])  # fmt: skip
        prof_w = _weighted([(k, v[0]) for k, v in dn.PROF_FIRMS.items()])
        self.uscc: list[str] = []
        self.name: list[str] = []
        self.kind = bytearray(n)
        self.county = bytearray(n)
        self.street = array("i", [-1]) * n
        self.region: list[str] = []
        self.industry: list[str] = []
        self.emp = array("i", [0]) * n
        self.active = bytearray(n)
        self.scope = bytearray(n)
        self.etype = bytearray(n)
        self.park = array("b", [-1]) * n
        self.bld = array("b", [-1]) * n
        self.prof: dict[int, str] = {}
        self.by_ind: dict[str, list[int]] = {c: [] for c in inds}
        self.by_street: dict[int, list[int]] = {k: [] for k in range(len(self.streets))}
        scope_of = [dn.ENTITY_TYPES[t][2] for t in types]
        county_names = [dn.COUNTIES[c][0] for c in self.county_codes]
        for i in range(n):
            social = i >= 10 and r() < 0.08
            park = bld = -1
            if social:
                kind = social_w[0][bisect(social_w[1], r() * social_w[2])]
                ci = self.county_codes.index(county_w[0][bisect(county_w[1], r() * county_w[2])])
                ind = rng.choice(inds)
                emp = rng.randint(1, 30) if r() < 0.9 else rng.randint(31, 200)
            else:
                kind = ENT
                ind = inds[bisect(ind_cw, r() * ind_t)]
                if r() < 0.10:
                    park = park_w[0][bisect(park_w[1], r() * park_w[2])]
                    ci = self.county_codes.index(dn.PARKS[self.parks[park]][0])
                    if r() < 0.6 and park_inds[park]:
                        ind = rng.choice(park_inds[park])
                else:
                    ci = self.county_codes.index(
                        county_w[0][bisect(county_w[1], r() * county_w[2])]
                    )
                    if ind[0] in "FGILMK" and r() < 0.12 and bld_of[self.county_codes[ci]]:
                        bld = rng.choice(bld_of[self.county_codes[ci]])
                u = r()
                emp = (rng.randint(0, 20) if u < 0.6 else rng.randint(21, 49) if u < 0.85 else
                       rng.randint(50, 500) if u < 0.97 else rng.randint(501, 999) if u < 0.995
                       else rng.randint(1000, 6000))  # fmt: skip
            county = self.county_codes[ci]
            u, streets = r(), self.streets_of[county]
            st = streets[0] if u < 0.14 else rng.choice(streets)
            region = (county if u < 0.10 else self.streets[st][1] + f"{rng.randint(1, 3):03d}"
                      if u < 0.14 else self.streets[st][1])  # fmt: skip
            word, indw = rng.choice(self.words), rng.choice(dn.INDUSTRIES[ind][1])
            place = rng.choice((dn.CITY_NAME, dn.COUNTIES[county][0], "揭阳"))
            if kind == ENT:
                t = bisect(type_cw, r() * type_t)
                self.etype[i] = t
                self.scope[i] = scope_of[t]
                suffix = rng.choice(dn.ENTITY_TYPES[types[t]][1])
                if types[t] == "个体工商户":
                    emp = min(emp, 8)
                    name = f"{county_names[ci]}{self.streets[st][2]}{word}{indw}{suffix}"
                else:
                    name = f"{place}{word}{indw}{suffix}"
                code = self.new_uscc("91", county)
            elif kind == PROF:
                cat = prof_w[0][bisect(prof_w[1], r() * prof_w[2])]
                self.prof[i] = cat
                ind = "L7231" if cat == "律师事务所" else "L7241"
                name = f"广东{word}{dn.PROF_FIRMS[cat][1]}"
                code = self.new_uscc(dn.PROF_FIRMS[cat][2], county)
                self.scope[i] = 1
            else:
                stype = _SOCIAL_TYPE[kind]
                tail = (
                    ("行业协会" if r() < 0.7 else "商会")
                    if kind == ASSOC
                    else rng.choice(dn.SOCIAL_WORDS[stype])
                )
                name = f"{place}{indw if kind == ASSOC else word}{tail}"
                code = self.new_uscc("5" + {"社会团体": "1", "民办非企业单位": "2"}.get(stype, "3"),
                                     county)  # fmt: skip
                self.scope[i] = 1
            if i in (3, 4):
                name = HOSTILE_NAMES[i - 3]
            active = r() < (0.97 if social else 0.92)
            self.uscc.append(code)
            self.name.append(name)
            self.region.append(region)
            self.industry.append(ind)
            self.kind[i], self.county[i], self.street[i], self.emp[i] = kind, ci, st, emp
            self.active[i], self.park[i], self.bld[i] = active, park, bld
            if active and self.scope[i]:
                self.by_street[st].append(i)
                if kind == ENT:
                    self.by_ind[ind].append(i)
        first_assoc = self.kind.find(bytes([ASSOC]))
        if first_assoc >= 0:
            self.name[first_assoc], self.industry[first_assoc] = "揭阳市不锈钢行业协会", "C3381"

    def committee_for(self, i: int) -> str:
        """The responsible committee (longest industry prefix, org kind, park, county)."""
        if self.kind[i] == ASSOC:
            return self.committee["06"]
        if self.prof.get(i) == "律师事务所":
            return self.committee["05"]
        if self.kind[i] == ENT:
            for prefix, code in self.ind_prefixes:
                if self.industry[i].startswith(prefix):
                    return code
        if self.park[i] == 0:
            return self.committee["07"]
        return f"GW{self.county_codes[self.county[i]]}"

    # -- enterprises and social organisations --------------------------------------
    def write_enterprises(self) -> None:
        rng, r = self.rng, self.rng.random
        act, inact = _weighted(dn.ACTIVE_STATUS), _weighted(dn.INACTIVE_STATUS)
        bad_kinds = ("bad_uscc_checksum", "legacy_id_only", "bad_enum_value", "bad_date",
                     "future_date", "negative_number", "bad_number", "bad_region_code",
                     "conflicting_duplicate", "exact_duplicate")  # fmt: skip
        fh, w = self.writer("enterprises")
        rows = last = 0
        last_row: list[str] = []
        # one bad row every `every` good rows (~0.8%), cycling through the reasons
        every = max(20, min(125, self.kind.count(bytes([ENT])) // 12))
        start = date(1993, 1, 1)
        for i in range(self.n):
            if self.kind[i] != ENT:
                continue
            st = act if self.active[i] else inact
            status = st[0][bisect(st[1], r() * st[2])]
            emp, county = self.emp[i], self.county_codes[self.county[i]]
            street = self.streets[self.street[i]][2]
            tname = self.type_names[self.etype[i]]
            above = (
                "是"
                if tname != "个体工商户" and (emp >= 300 or (emp >= 50 and r() < 0.3))
                else "否"
            )
            park = self.parks[self.park[i]] if self.park[i] >= 0 else ""
            bld = self.buildings[self.bld[i]] if self.bld[i] >= 0 else ""
            addr = (
                f"广东省揭阳市{dn.COUNTIES[county][0]}{street}{rng.choice(self.roads)}"
                f"{rng.randint(1, 300)}号"
            )
            row = [self.uscc[i], self.name[i], tname, status, self.date_str(self.rand_date(start, 30)),
                   self.industry[i], self.region[i], str(emp), above, park, bld, addr,
                   rng.choice(self.people), ""]  # fmt: skip
            w.writerow(row)
            rows += 1
            last_row = row
            if rows % every == every // 2:
                reason = bad_kinds[last % len(bad_kinds)]
                last += 1
                bad = list(row)
                bad[0] = self.new_uscc("91", county)
                bad[1] = (
                    f"揭阳市{rng.choice(self.words)}{rng.choice(dn.INDUSTRIES[row[5]][1])}有限公司"
                )
                if reason == "bad_uscc_checksum":
                    bad[0] = bad[0][:17] + _ALPHA[(_IDX[bad[0][17]] + 1) % 31]
                elif reason == "legacy_id_only":
                    bad[0], bad[13] = "", f"{county}{rng.randrange(10**9):09d}"
                elif reason == "bad_enum_value":
                    bad[3] = "正在办理"
                elif reason == "bad_date":
                    bad[4] = rng.choice(("2019-13-45", "2020/02/30", "二〇一九年"))
                elif reason == "future_date":
                    bad[4] = (
                        date.fromordinal(self.today.toordinal() + rng.randint(10, 400))
                    ).isoformat()
                elif reason == "negative_number":
                    bad[7] = str(-rng.randint(1, 50))
                elif reason == "bad_number":
                    bad[7] = f"约{rng.randint(2, 9) * 10}人"
                elif reason == "bad_region_code":
                    bad[6] = rng.choice(("44520", "4452O2001", "44520200"))
                elif reason == "exact_duplicate":
                    bad = last_row
                if reason == "conflicting_duplicate":
                    w.writerow(bad)
                    bad = list(bad)
                    bad[1] = bad[1].replace("有限公司", "贸易有限公司")
                    rows += 1
                    self.mark_bad("enterprises", reason)
                w.writerow(bad)
                rows += 1
                self.mark_bad("enterprises", reason)
        fh.close()
        self.counts["enterprises"] = rows

    def write_social_orgs(self) -> None:
        rng, r = self.rng, self.rng.random
        fh, w = self.writer("social_orgs", "gb18030")
        rows = nbad = 0
        start = date(1995, 1, 1)
        every = max(10, min(100, (self.n - self.kind.count(bytes([ENT]))) // 3))
        for i in range(self.n):
            k = self.kind[i]
            if k == ENT:
                continue
            members = ""
            if k == ASSOC:
                pool = self.by_ind.get(self.industry[i]) or []
                picks = rng.sample(pool, min(len(pool), rng.randint(5, 30)))
                members = ";".join(self.uscc[j] for j in picks)
            supervisor = "" if k in (ASSOC, PROF) or r() < 0.3 else rng.choice(dn.SUPERVISORS)
            row = [self.uscc[i], self.name[i], _SOCIAL_TYPE[k], "正常" if self.active[i] else "注销",
                   self.date_str(self.rand_date(start, 30)), self.region[i], str(self.emp[i]),
                   "是" if k == ASSOC else "否", supervisor, "是" if r() < 0.6 else "否", members,
                   self.prof.get(i, "")]  # fmt: skip
            w.writerow(row)
            rows += 1
            if rows % every == every // 2:
                bad = list(row)
                bad[0] = self.new_uscc("51", self.county_codes[self.county[i]])
                bad[1] = f"揭阳市{rng.choice(self.words)}协会"
                reason = ("bad_uscc_checksum", "bad_enum_value", "bad_date")[nbad % 3]
                if reason == "bad_uscc_checksum":
                    bad[0] = bad[0][:17] + _ALPHA[(_IDX[bad[0][17]] + 3) % 31]
                elif reason == "bad_enum_value":
                    bad[3] = "正在办理"
                else:
                    bad[4] = "2019-13-45"
                nbad += 1
                w.writerow(bad)
                rows += 1
                self.mark_bad("social_orgs", reason)
        fh.close()
        self.counts["social_orgs"] = rows

    # -- frame: regions and committees ---------------------------------------------
    def write_frame(self) -> None:
        fh, w = self.writer("regions")
        rows = [[dn.PROVINCE[0], dn.PROVINCE[1], ""], [dn.CITY_CODE, dn.CITY_NAME, dn.PROVINCE[0]]]
        rows += [[c, dn.COUNTIES[c][0], dn.CITY_CODE] for c in self.county_codes]
        for county, code, name in self.streets:
            rows.append([code, name, county])
            if code.endswith("001"):
                rows += [[f"{code}{k + 1:03d}", dn.COMMUNITY_NAMES[k], code] for k in range(3)]
        w.writerows(rows)
        fh.close()
        self.counts["regions"] = len(rows)
        fh, w = self.writer("committees")
        root = f"GW{dn.CITY_CODE}"
        rows = [[root, "市委两新工委", "两新工委", "", "", "", dn.CITY_CODE, ""]]
        for suffix, name, kind, inds, kinds, park in dn.COMMITTEES:
            region = dn.PARKS[park][0] if park else dn.CITY_CODE
            rows.append([self.committee[suffix], name, kind, root, inds, kinds, region, park])
        rows += [[f"GW{c}", f"{dn.COUNTIES[c][0]}两新组织综合党委", "区域综合党委", root, "", "", c, ""]
                 for c in self.county_codes]  # fmt: skip
        w.writerows(rows)
        fh.close()
        self.counts["committees"] = len(rows)

    # -- alliances (chosen before Party organisations: leaders get standalone orgs) --
    def pick_alliances(self) -> None:
        rng = self.rng
        self.alliances: list[tuple[str, str, int, list[int]]] = []
        self.in_chain = bytearray(self.n)
        for chain, name, prefixes, county in dn.ALLIANCES:
            pool = [i for p in prefixes for i in self.by_ind[p] if self.kind[i] == ENT
                    and (not county or self.county_codes[self.county[i]] == county)]  # fmt: skip
            pool.sort(key=lambda i: (-self.emp[i], i))
            want = min(len(pool), rng.randint(10, 40))
            if want < 3:
                continue
            members = sorted(rng.sample(pool[: max(want, min(len(pool), 3 * want))], want))
            leader = max(members, key=lambda i: (self.emp[i], -i))
            for i in members:
                self.in_chain[i] = 1
            self.alliances.append((chain, name, leader, members))

    # -- Party organisations and member specs ----------------------------------------
    def po(
        self,
        county: str,
        name: str,
        level: str,
        formation: str,
        parent: str,
        covers: list[int],
        area: str = "",
        status: str = "正常",
        mark: int = NONE,
    ) -> int:
        code = f"D{county}{len(self.pos) + 1:06d}"
        founded = self.rand_date(date(2003, 1, 1), 20)
        self.pos.append(
            [code, name, level, formation, parent, covers, area, founded, status, "否", []]
        )
        k = len(self.pos) - 1
        for i in covers:
            if mark and not self.cov[i]:
                self.cov[i], self.cov_po[i] = mark, k
        return k

    def add_members(
        self,
        k: int,
        employers: Sequence[int],
        n: int,
        full: int = 0,
        occ: Sequence[str] = (),
        mobile: bool = False,
    ) -> None:
        for j in range(n):
            emp = employers[j % len(employers)] if employers else -1
            self.mspecs.append((self.pos[k][0] if k >= 0 else "", emp, j < full, mobile,
                                self.rng.choice(occ) if occ else ""))  # fmt: skip
        if k >= 0 and n >= 7:
            self.pos[k][9] = "是" if self.rng.random() < 0.6 else "否"

    def pick_uncovered(
        self, pool: Sequence[int], k: int, taken: set[int] | None = None
    ) -> list[int]:
        out: list[int] = []
        for _ in range(6 * k):
            if len(out) >= k or not pool:
                break
            i = pool[self.rng.randrange(len(pool))]
            if not self.cov[i] and i not in out and (taken is None or i not in taken):
                out.append(i)
        return out

    def build_party_orgs(self) -> None:
        rng, r, n = self.rng, self.rng.random, self.n
        self.pos: list[list[Any]] = []
        self.mspecs: list[tuple[str, int, bool, bool, str]] = []
        self.cov = bytearray(n)
        self.cov_po = array("i", [-1]) * n
        cc = self.county_codes
        target = max(40, n // 10)
        # mobile-member branches
        self.mobile: list[int] = []
        for name, csuf, occ, prefix in dn.MOBILE_BRANCHES:
            k = self.po(dn.CITY_CODE, name, "党支部", "行业统建", self.committee[csuf], [])
            emps = [i for i in self.pick_uncovered(self.by_ind.get(prefix, []), max(3, n // 5000))]
            self.add_members(k, emps if r() < 0.7 else [], max(5, n // 2500), 2, occ, True)
            self.mobile.append(k)
        # parks and buildings (implicit coverage of everything inside)
        by_park: dict[int, list[int]] = {}
        by_bld: dict[int, list[int]] = {}
        for i in range(n):
            if self.active[i] and self.scope[i]:
                if self.park[i] >= 0:
                    by_park.setdefault(self.park[i], []).append(i)
                if self.bld[i] >= 0:
                    by_bld.setdefault(self.bld[i], []).append(i)
        served_park, served_bld = set(), set()
        for p, park in enumerate(self.parks):
            if park == dn.PARK_WITHOUT_ORG:
                continue
            county = dn.PARKS[park][0]
            parent = self.committee["07"] if p == 0 else f"GW{county}"
            k = self.po(county, f"{park}园区统建党总支", "党总支", "园区统建", parent, [], park)
            self.add_members(k, self.pick_uncovered(by_park.get(p, []), 5), rng.randint(4, 12), 3)
            served_park.add(p)
        for b, bld in enumerate(self.buildings):
            if b % 3 == 2:
                continue
            county = dn.BUILDINGS[bld]
            k = self.po(county, f"{bld}楼宇党支部", "党支部", "楼宇统建", f"GW{county}", [], bld)
            self.add_members(k, self.pick_uncovered(by_bld.get(b, []), 3), rng.randint(3, 6), 3)
            served_bld.add(b)
        # alliance leaders first, then standalone by size
        order = list(range(n))
        rng.shuffle(order)
        leaders = [a[2] for a in self.alliances]
        n_stand, n_joint = int(target * 0.5), int(target * 0.2)
        big = 0
        for i in leaders + order:
            if len(self.pos) >= n_stand:
                break
            e = self.emp[i]
            if self.cov[i] or not self.active[i] or not self.scope[i] or e < 3:
                continue
            if i not in leaders and r() > (
                0.03 if e < 20 else 0.25 if e < 50 else 0.6 if e < 500 else 0.9
            ):
                continue
            county, parent, nm = cc[self.county[i]], self.committee_for(i), self.name[i]
            if e >= 500 and r() < 0.3 or e >= 100 and r() < 0.1:
                level = "党委" if e >= 500 else "党总支"
                k = self.po(
                    county,
                    f"中共{nm}{'委员会' if level == '党委' else '总支部委员会'}",
                    level,
                    "单独组建",
                    parent,
                    [i],
                    mark=STANDALONE,
                )
                self.pos[k][9] = "是"
                for c in range(rng.randint(2, 3)):
                    kc = self.po(
                        county,
                        f"中共{nm}第{'一二三'[c]}支部委员会",
                        "党支部",
                        "单独组建",
                        self.pos[k][0],
                        [i],
                        mark=STANDALONE,
                    )
                    self.add_members(
                        kc, [i], min(e, rng.randint(3, 9 if level == "党委" else 6)), 3
                    )
                continue
            size = (rng.randint(51, 60) if e >= 200 and big < 2 else
                    rng.choice((3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5, 6, 8, 11)))  # fmt: skip
            big += size > 50
            k = self.po(
                county, f"中共{nm}支部委员会", "党支部", "单独组建", parent, [i], mark=STANDALONE
            )
            self.add_members(k, [i], max(3, min(e, size)), 3)
        # joint branches: 2-5 units of one street, some wider than 5
        self.unknown_uscc = self.new_uscc("91", "445299")
        streets = [s for s in self.by_street if self.by_street[s]]
        for j in range(n_joint):
            st = rng.choice(streets)
            wide = j % 10 == 1  # every tenth joint branch is too wide (> 5 units)
            units = self.pick_uncovered(
                self.by_street[st], rng.randint(6, 8) if wide else rng.randint(2, 5)
            )
            if len(units) < 2:
                continue
            county, name = self.streets[st][0], self.streets[st][2]
            k = self.po(
                county,
                f"{name}{self.name[units[0]][:6]}等{len(units)}家单位联合党支部",
                "党支部",
                "联合组建",
                self.committee_for(units[0]),
                units,
                mark=JOINT,
            )
            self.add_members(k, units, rng.randint(3, 4), 3)
            if j == 0:
                self.pos[k][10].append(self.unknown_uscc)
        # area branches per street, industry-wide branches, orphans, revoked
        self.area_of: dict[str, list[int]] = {c: [] for c in cc}
        n_area = max(len(cc), target - len(self.pos) - 6)
        for j in range(n_area):
            st = rng.choice(streets) if j >= len(cc) else self.streets_of[cc[j]][0]
            county, code, name = self.streets[st]
            units = self.pick_uncovered(self.by_street[st], rng.randint(1, 4))
            k = self.po(
                county,
                f"{name}两新组织区域第{j + 1}党支部",
                "党支部",
                "区域统建",
                f"GW{county}",
                units,
                code,
                mark=AREA,
            )
            self.add_members(k, units, rng.randint(1, 2), 1)
            self.area_of[county].append(k)
        for county in cc[:2]:
            units = self.pick_uncovered(
                [i for i in self.by_ind["G5430"] if cc[self.county[i]] == county], 6
            )
            if units:
                k = self.po(
                    county,
                    f"{dn.COUNTIES[county][0]}物流行业党支部",
                    "党支部",
                    "行业统建",
                    self.committee["01"],
                    units,
                    mark=AREA,
                )
                self.add_members(k, units, 3, 3)
        dead = [i for i in order[:20000] if not self.active[i] and self.kind[i] == ENT]
        for j in range(min(len(dead), max(2, n // 5000))):
            i = dead[j]
            self.po(
                cc[self.county[i]],
                f"中共{self.name[i]}支部委员会",
                "党支部",
                "单独组建",
                self.committee_for(i),
                [i],
            )
        for j in range(max(2, n // 1000)):
            units = self.pick_uncovered(order[j * 50 : (j + 1) * 50], 1)
            if units and self.active[units[0]] and self.scope[units[0]]:
                i = units[0]
                k = self.po(
                    cc[self.county[i]],
                    f"中共{self.name[i]}支部委员会",
                    "党支部",
                    "单独组建",
                    self.committee_for(i),
                    [i],
                    status="撤销",
                )
                self.add_members(k, [i], rng.randint(1, 3))
        # implicit park/building coverage, then gap cases
        for i in range(n):
            if not self.cov[i] and (self.park[i] in served_park or self.bld[i] in served_bld):
                self.cov[i] = IMPLICIT
        self.uncovered = [i for i in order if self.active[i] and self.scope[i] and not self.cov[i]]
        unc = self.uncovered
        for j in range(min(len(unc) // 4, max(5, n // 200))):  # members_without_org
            i = unc[j]
            home = self.area_of[cc[self.county[i]]] or self.mobile
            self.add_members(rng.choice(home), [i], rng.randint(1, 2))
        for i in [u for u in unc[len(unc) // 4 :] if self.emp[u] >= 5][: max(3, n // 1000)]:
            self.add_members(
                rng.choice(self.area_of[cc[self.county[i]]] or self.mobile),
                [i],
                rng.randint(3, 5),
                5,
            )  # should_establish
        for _ in range(max(5, n // 300)):  # unaffiliated
            self.add_members(-1, [rng.randrange(n)], 1)
        self.mspecs.append((UNKNOWN_PARTY_ORG, rng.randrange(n), True, False, ""))

    def write_party_orgs(self) -> None:
        fh, w = self.writer("party_orgs")
        for code, name, level, form, parent, covers, area, founded, status, comm, extra in self.pos:
            cells = ";".join([self.uscc[i] for i in covers] + extra)
            w.writerow(
                [
                    code,
                    name,
                    level,
                    form,
                    parent,
                    cells,
                    area,
                    self.date_str(founded, 0.0 if self.rng.random() < 0.8 else 0.7),
                    status,
                    comm,
                ]
            )
        fh.close()
        self.counts["party_orgs"] = len(self.pos)

    def write_members(self) -> None:
        rng, r = self.rng, self.rng.random
        fh, w = self.writer("members")
        self.members_at = array("i", [0]) * self.n
        seen: set[str] = set()
        b_lo, b_hi = date(1960, 1, 1).toordinal(), date(2004, 12, 31).toordinal()
        rows = 0
        occ_keys = sorted(dn.OCCUPATIONS, key=len, reverse=True)
        for seq, (code, emp, full, mobile, occ) in enumerate(self.mspecs, 1):
            if emp >= 0:
                self.members_at[emp] += 1
                county = self.county_codes[self.county[emp]]
            else:
                county = rng.choice(self.county_codes)
            while True:
                first17 = (
                    f"{county}{date.fromordinal(rng.randrange(b_lo, b_hi)).strftime('%Y%m%d')}"
                    f"{rng.randrange(1000):03d}"
                )
                if first17 not in seen:
                    seen.add(first17)
                    break
            manager = r() < 0.15
            if not occ:
                ind = self.industry[emp] if emp >= 0 else ""
                occ = rng.choice(
                    dn.MANAGER_OCCUPATIONS
                    if manager and r() < 0.5
                    else dn.OCCUPATIONS[next(k for k in occ_keys if ind.startswith(k))]
                )
            row = [
                f"DY{dn.CITY_CODE}{seq:07d}",
                rng.choice(self.people),
                first17 + id_check_char(first17),
                "正式党员" if full or r() > 0.085 else "预备党员",
                code,
                self.uscc[emp] if emp >= 0 else "",
                occ,
                "是" if mobile else "否",
                "是" if manager else "否",
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            ]
            w.writerow(row)
            rows += 1
            if seq % 200 == 100:
                good = row[2][17]
                row = list(row)
                row[0] = f"DY{dn.CITY_CODE}{len(self.mspecs) + rows:07d}X"
                row[2] = row[2][:17] + next(c for c in "1098765432X" if c != good)
                w.writerow(row)
                rows += 1
                self.mark_bad("members", "bad_id_number")
        fh.close()
        self.counts["members"] = rows

    # -- instructors, alliances, supply links, reports, verifications --------------
    def write_instructors(self) -> None:
        rng = self.rng
        fh, w = self.writer("instructors")
        unc, want, pos, rows = self.uncovered, max(3, len(self.uncovered) // 20), 0, 0
        start = len(unc) // 2  # the first half feeds the member gap cases
        while pos < want and start + pos < len(unc):
            k = min(rng.randint(1, 6), want - pos)
            units = unc[start + pos : start + pos + k]
            pos += k
            county = self.county_codes[self.county[units[0]]]
            sent = f"{dn.COUNTIES[county][0]}{rng.choice(dn.SENT_BY)}"
            w.writerow(
                [
                    f"ZDY{rows + 1:06d}",
                    rng.choice(self.people),
                    ";".join(self.uscc[i] for i in units),
                    sent,
                    self.date_str(self.rand_date(date(2018, 1, 1), 10)),
                ]
            )
            rows += 1
        fh.close()
        self.counts["instructors"] = rows

    def write_alliances_and_links(self) -> None:
        rng = self.rng
        fh, w = self.writer("alliances")
        rels = ("供应", "配套", "采购")
        links: list[tuple[int, int, str, str]] = []
        used = bytearray(self.in_chain)
        for a, (chain, name, leader, members) in enumerate(self.alliances):
            lead_po = self.pos[self.cov_po[leader]][0] if self.cov_po[leader] >= 0 else ""
            w.writerow(
                [
                    f"LM{dn.CITY_CODE}{a + 1:02d}",
                    name,
                    chain,
                    self.uscc[leader],
                    ";".join(self.uscc[i] for i in members),
                    lead_po,
                    self.date_str(self.rand_date(date(2019, 1, 1), 30)),
                ]
            )
            others = [i for i in members if i != leader]
            for i in others:
                links.append(
                    (i, leader, rng.choice(rels), chain)
                    if rng.random() < 0.7
                    else (leader, i, rng.choice(rels), chain)
                )
            for _ in range(len(members) // 2):
                x, y = rng.sample(members, 2)
                links.append((x, y, rng.choice(rels), chain))
            prefixes = next(p for c, _, p, _ in dn.ALLIANCES if c == chain)
            pool = [i for p in prefixes for i in self.by_ind[p] if not used[i]]
            hop1 = rng.sample(pool, min(len(pool), rng.randint(3, 6)))
            for i in hop1:
                used[i] = 1
                links.append((i, rng.choice(members), rng.choice(rels), chain))
            pool = [i for i in pool if not used[i]]
            for i in rng.sample(pool, min(len(pool), rng.randint(2, 4))):
                used[i] = 1
                if hop1:
                    links.append((i, rng.choice(hop1), rng.choice(rels), chain))
        fh.close()
        self.counts["alliances"] = len(self.alliances)
        for chain, prefixes in dn.FREE_CHAINS:
            pool = [i for p in prefixes for i in self.by_ind[p] if not used[i]]
            if len(pool) < 6:
                pool = [i for i in self.uncovered if not used[i]]
            group = rng.sample(pool, min(len(pool), rng.randint(6, 10)))
            for a, b in pairwise(group):
                used[a] = 1
                links.append((a, b, rng.choice(rels), chain))
            used[group[-1]] = 1
            for _ in range(len(group) // 2):
                x, y = rng.sample(group, 2)
                links.append((x, y, rng.choice(rels), chain))
        fh, w = self.writer("supply_links")
        w.writerows([self.uscc[a], self.uscc[b], rel, chain] for a, b, rel, chain in links)
        fh.close()
        self.counts["supply_links"] = len(links)

    def report_rows(self) -> list[list[Any]]:
        rng, r = self.rng, self.rng.random
        year, rows = self.today.year - 1, []
        for i in range(self.n):
            if (
                self.kind[i] != ENT
                or not self.active[i]
                or self.etype[i] == self.type_names.index("个体工商户")
                or r() > 0.33
            ):
                continue
            has, cnt = self.cov[i] in (STANDALONE, JOINT, AREA), self.members_at[i]
            if r() < 0.06:
                has = not has
            if r() < 0.04:
                cnt = cnt + rng.randint(1, 5) if r() < 0.5 else 0
            founded: date | None = None
            if has:
                k = self.cov_po[i]
                founded = self.pos[k][7] if k >= 0 else self.rand_date(date(2010, 1, 1), 30)
            flag = (("是", "1") if has else ("否", "9"))[r() < 0.5]
            form = ("单独" if self.cov[i] == STANDALONE else "联合") if has else ""
            rows.append([self.uscc[i], year, cnt, flag, form, founded])
        return rows

    def write_annual_reports(self) -> None:
        rows = self.report_rows()
        epoch = date(1899, 12, 30).toordinal()
        if self.size == "province":
            fh, w = self.writer("annual_reports")
            for j, (u, y, c, f, fm, d) in enumerate(rows):
                cell = (
                    "" if d is None else str(d.toordinal() - epoch) if j % 3 == 1 else d.isoformat()
                )
                w.writerow([u, y, c, f, fm, cell])
            fh.close()
        else:
            path = self.dir / "annual_reports.xlsx"
            self.files["annual_reports"] = path
            wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
            wb.set_properties(
                {"created": datetime(self.today.year, self.today.month, self.today.day)}
            )
            ws, fmt = wb.add_worksheet("年报党建信息"), wb.add_format({"num_format": "yyyy-mm-dd"})
            ws.write_row(0, 0, HEADERS["annual_reports"])
            for j, (u, y, c, f, fm, d) in enumerate(rows, 1):
                ws.write_row(j, 0, (u, y, c, f, fm))
                if d is not None:
                    if j % 3 == 0:
                        ws.write_datetime(j, 5, datetime(d.year, d.month, d.day), fmt)
                    elif j % 3 == 1:
                        ws.write_number(j, 5, d.toordinal() - epoch)
                    else:
                        ws.write_string(j, 5, d.isoformat())
            wb.close()
        self.counts["annual_reports"] = len(rows)

    def write_verifications(self) -> None:
        rng, r = self.rng, self.rng.random
        fh, w = self.writer("verifications")
        results = _weighted(
            [("正常经营", 80.0), ("空壳", 6.0), ("僵尸", 5.0), ("失联", 6.0), ("已迁出", 3.0)]
        )
        picks = sorted(set(rng.sample(range(self.n), max(10, self.n * 3 // 100))))
        for i in picks:
            res = results[0][bisect(results[1], r() * results[2])]
            if self.cov[i] in (STANDALONE, JOINT) or self.in_chain[i]:
                res = "正常经营"
            w.writerow(
                [
                    self.uscc[i],
                    res,
                    self.date_str(self.rand_date(date(self.today.year - 1, 1, 1))),
                    rng.choice(dn.VERIFICATION_NOTES[res]),
                ]
            )
        fh.close()
        self.counts["verifications"] = len(picks)


def generate_city(
    directory: Path, *, size: str = "small", seed: int = 42, today: date = date(2026, 12, 1)
) -> DemoManifest:
    """Write a deterministic demo city (all eleven kinds + ``manifest.json``) into ``directory``."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    city = _City(directory, size, seed, today)
    city.write_frame()
    city.build_orgs()
    city.write_enterprises()
    city.write_social_orgs()
    city.pick_alliances()
    city.build_party_orgs()
    city.write_party_orgs()
    city.write_members()
    city.write_instructors()
    city.write_alliances_and_links()
    city.write_annual_reports()
    city.write_verifications()
    kinds = list(HEADERS)
    bad = {k: sum(city.bad[k].values()) for k in kinds}
    manifest = DemoManifest(
        directory,
        {k: city.files[k] for k in kinds},
        {k: city.counts[k] for k in kinds},
        bad,
        seed,
        size,
        {k: dict(sorted(v.items())) for k, v in city.bad.items() if v},
    )
    data = asdict(manifest)
    data["directory"] = "."
    data["files"] = {k: p.name for k, p in manifest.files.items()}
    data["today"] = today.isoformat()
    (directory / "manifest.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
