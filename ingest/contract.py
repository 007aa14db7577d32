"""The ingest contract as data: file kinds, their columns, headers and references.

This is ``shared/spec/ingest-contract.md`` turned into tables that the header mapper,
the validator and the record builder read. Property names come from
``graph.model``; a field whose name is not a model property (``id_number``,
``phone``) is input-only and never reaches the store in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from graph import model as m


@dataclass(frozen=True)
class Field:
    """One column of a kind: canonical header, English alias, how to clean it."""

    name: str
    header: str
    alias: str
    type: str
    required: bool = False
    #: Other headers seen in real exports (national credit-system field codes, variants).
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """A field whose value names another node: it becomes a relationship.

    ``report_unknown``: list the reference as ``unknown_reference`` in the run report
    while no register holds the target (regions are optional, so they do not count).
    """

    field: str
    rel: str
    targets: tuple[str, ...]
    report_unknown: bool = True


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    #: The node label a row becomes; None for kinds whose rows are relationships.
    label: str | None
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    references: tuple[Reference, ...] = ()
    #: Kinds that must be ingested first when a run has several files.
    order: int = 50

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


F = Field
_ORG_STATUS = F("status", "登记状态", "status", "org_status", synonyms=("REGSTATE_CN", "状态"))
_FOUNDED = F("founded_on", "成立日期", "founded_on", "date", synonyms=("ESTDATE",))
_REGION = F("region_code", "区划代码", "region_code", "region", synonyms=("行政区划代码",))
_EMPLOYEES = F("employees", "从业人数", "employees", "int", synonyms=("从业人员", "职工人数"))

ENTERPRISES = Kind(
    "enterprises",
    "新经济组织(企业登记)",
    m.ORGANIZATION,
    ("uscc",),
    (
        F("uscc", "统一社会信用代码", "uscc", "uscc", True, ("UNISCID", "信用代码")),
        F("name", "企业名称", "name", "text", True, ("ENTNAME", "名称")),
        F("entity_type", "企业类型", "entity_type", "text", synonyms=("ENTTYPE_CN",)),
        _ORG_STATUS,
        _FOUNDED,
        F("industry_code", "行业代码", "industry_code", "industry", synonyms=("INDUSTRYPHY",)),
        _REGION,
        _EMPLOYEES,
        F("above_scale", "是否规上", "above_scale", "bool", synonyms=("规上企业",)),
        F("park", "所在园区", "park", "text"),
        F("building", "所在楼宇", "building", "text"),
        F("address", "住所", "address", "text", synonyms=("DOM",)),
        F("legal_rep", "法定代表人", "legal_rep", "text", synonyms=("NAME",)),
        F("reg_no", "注册号", "reg_no", "text", synonyms=("REGNO",)),
        F("approved_on", "核准日期", "approved_on", "date", synonyms=("APPRDATE",)),
    ),
    (
        Reference("region_code", m.IN_REGION, (m.REGION,), report_unknown=False),
        Reference("park", m.IN_PLACE, (m.PLACE,), report_unknown=False),
        Reference("building", m.IN_PLACE, (m.PLACE,), report_unknown=False),
    ),
    order=20,
)

SOCIAL_ORGS = Kind(
    "social_orgs",
    "新社会组织(民政登记)",
    m.ORGANIZATION,
    ("uscc",),
    (
        F("uscc", "统一社会信用代码", "uscc", "uscc", True, ("UNISCID", "信用代码")),
        F("name", "社会组织名称", "name", "text", True, ("名称",)),
        F("org_type", "社会组织类型", "org_type", "enum:social_org_type"),
        _ORG_STATUS,
        _FOUNDED,
        _REGION,
        _EMPLOYEES,
        F("is_association", "是否行业协会商会", "is_association", "bool"),
        F("supervisor", "业务主管单位", "supervisor", "text"),
        F("party_in_charter", "是否党建入章", "party_in_charter", "bool"),
        F("member_orgs", "会员单位", "member_orgs", "list_uscc"),
    ),
    (
        Reference("region_code", m.IN_REGION, (m.REGION,), report_unknown=False),
        Reference("member_orgs", m.ASSOCIATION_MEMBER, (m.ORGANIZATION,)),
    ),
    order=21,
)

COMMITTEES = Kind(
    "committees",
    "1+7+N 党委(工委)",
    m.COMMITTEE,
    ("code",),
    (
        F("code", "编码", "code", "text", True, ("党委编码",)),
        F("name", "名称", "name", "text", True, ("党委名称",)),
        F("committee_kind", "类型", "kind", "enum:committee_kind", True),
        F("parent_code", "上级编码", "parent_code", "text"),
        F("industries", "主管行业", "industries", "list"),
        F("org_kinds", "主管组织类型", "org_kinds", "list"),
        _REGION,
        F("park", "所辖园区", "park", "text"),
    ),
    (
        Reference("parent_code", m.REPORTS_TO, (m.COMMITTEE,)),
        Reference("region_code", m.IN_REGION, (m.REGION,), report_unknown=False),
    ),
    order=10,
)

PARTY_ORGS = Kind(
    "party_orgs",
    "党组织",
    m.PARTY_ORG,
    ("code",),
    (
        F("code", "党组织编码", "code", "text", True),
        F("name", "党组织名称", "name", "text", True),
        F("level", "党组织类别", "level", "enum:party_level", True),
        F("formation", "组建方式", "formation", "enum:formation", True),
        F("parent_code", "上级党组织编码", "parent_code", "text"),
        F("covers", "覆盖单位", "covers", "list_uscc"),
        F("area", "统建范围", "area", "text"),
        _FOUNDED,
        F("status", "状态", "status", "party_status"),
        F("has_committee", "是否设立支委会", "has_committee", "bool"),
    ),
    (
        Reference("parent_code", m.REPORTS_TO, (m.PARTY_ORG, m.COMMITTEE)),
        Reference("covers", m.COVERS, (m.ORGANIZATION,)),
        Reference("area", m.SERVES_AREA, (m.PLACE, m.REGION), report_unknown=False),
    ),
    order=30,
)

MEMBERS = Kind(
    "members",
    "党员",
    m.MEMBER,
    ("member_id",),
    (
        F("member_id", "党员编号", "member_id", "text", True),
        F("name", "姓名", "name", "text"),
        F("id_number", "身份证号", "id_number", "id_number", synonyms=("公民身份号码",)),
        F("member_type", "党员类型", "member_type", "enum:member_type"),
        F("party_org_code", "所在党组织编码", "party_org_code", "text"),
        F("employer_uscc", "工作单位信用代码", "employer_uscc", "uscc"),
        F("occupation", "职业", "occupation", "text"),
        F("mobile", "是否流动党员", "mobile", "bool"),
        F("in_management", "是否管理层", "in_management", "bool"),
        F("phone", "联系电话", "phone", "phone", synonyms=("手机号码", "手机")),
    ),
    (
        Reference("party_org_code", m.MEMBER_OF, (m.PARTY_ORG,)),
        Reference("employer_uscc", m.EMPLOYED_BY, (m.ORGANIZATION,)),
    ),
    order=40,
)

INSTRUCTORS = Kind(
    "instructors",
    "党建工作指导员",
    m.INSTRUCTOR,
    ("instructor_id",),
    (
        F("instructor_id", "指导员编号", "instructor_id", "text", True),
        F("name", "姓名", "name", "text"),
        F("assigned_to", "联系单位", "assigned_to", "list_uscc"),
        F("sent_by", "派出单位", "sent_by", "text"),
        F("assigned_on", "选派日期", "assigned_on", "date"),
    ),
    (Reference("assigned_to", m.ASSIGNED_TO, (m.ORGANIZATION,)),),
    order=41,
)

ALLIANCES = Kind(
    "alliances",
    "产业链党建联盟",
    m.ALLIANCE,
    ("code",),
    (
        F("code", "联盟编码", "code", "text", True),
        F("name", "联盟名称", "name", "text", True),
        F("chain", "产业链", "chain", "text"),
        F("leader_uscc", "链主信用代码", "leader_uscc", "uscc", True),
        F("members", "成员单位", "members", "list_uscc"),
        F("lead_party_org", "牵头党组织编码", "lead_party_org", "text"),
        _FOUNDED,
    ),
    (
        Reference("leader_uscc", m.LED_BY, (m.ORGANIZATION,)),
        Reference("members", m.ALLIANCE_MEMBER, (m.ORGANIZATION,)),
        Reference("lead_party_org", m.GUIDED_BY, (m.PARTY_ORG,)),
    ),
    order=42,
)

SUPPLY_LINKS = Kind(
    "supply_links",
    "产业链上下游关系",
    None,
    ("from_uscc", "to_uscc"),
    (
        F("from_uscc", "上游信用代码", "from_uscc", "uscc", True),
        F("to_uscc", "下游信用代码", "to_uscc", "uscc", True),
        F("relation", "关系类型", "relation", "enum:supply_relation"),
        F("chain", "产业链", "chain", "text"),
    ),
    order=43,
)

ANNUAL_REPORTS = Kind(
    "annual_reports",
    "企业年报党建信息",
    m.ANNUAL_REPORT,
    ("uscc", "year"),
    (
        F("uscc", "统一社会信用代码", "uscc", "uscc", True, ("UNISCID",)),
        F("year", "年度", "year", "int", True, ("ANCHEYEAR",)),
        F("party_members", "党员人数", "party_members", "int", synonyms=("NUMPARM",)),
        F("has_party_org", "是否建立党组织", "has_party_org", "has_party_org",
          synonyms=("PARINS",)),
        F("formation", "组建方式", "formation", "enum:annual_formation", synonyms=("PARORGW",)),
        F("party_org_founded", "建立时间", "party_org_founded", "date", synonyms=("PARSETTIME",)),
    ),
    (Reference("uscc", m.REPORT_OF, (m.ORGANIZATION,)),),
    order=44,
)

VERIFICATIONS = Kind(
    "verifications",
    "核查结果",
    m.VERIFICATION,
    ("uscc",),
    (
        F("uscc", "统一社会信用代码", "uscc", "uscc", True),
        F("result", "核查结果", "result", "enum:verification_result", True),
        F("checked_on", "核查日期", "checked_on", "date"),
        F("note", "说明", "note", "text"),
    ),
    (Reference("uscc", m.VERIFICATION_OF, (m.ORGANIZATION,)),),
    order=45,
)

REGIONS = Kind(
    "regions",
    "行政区划",
    m.REGION,
    ("code",),
    (
        F("code", "区划代码", "code", "region", True),
        F("name", "名称", "name", "text", True),
        F("parent_code", "上级区划代码", "parent_code", "region"),
    ),
    (Reference("parent_code", m.IN_REGION, (m.REGION,), report_unknown=False),),
    order=5,
)

KINDS: Final[dict[str, Kind]] = {
    k.name: k
    for k in (
        REGIONS, COMMITTEES, ENTERPRISES, SOCIAL_ORGS, PARTY_ORGS, MEMBERS, INSTRUCTORS,
        ALLIANCES, SUPPLY_LINKS, ANNUAL_REPORTS, VERIFICATIONS,
    )
}
