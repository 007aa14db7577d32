"""The fugai domain model, declared once as data.

Every layer reads labels, keys, property names and relationship types from here:
the embedded store, the Neo4j store (its constraints and Cypher are generated from
these tables), the ingest contract (which maps headers onto these property names)
and the docs (``docs/model.md`` is rendered from this module by ``fugai model``).

Nothing here does I/O. Adding a property means adding it here and, if it comes from
a file, mapping a header to it in ``ingest/contract.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True)
class Label:
    """A node label: what kind of thing a node is and which property is its key."""

    name: str
    key: str
    zh: str
    properties: tuple[str, ...]
    #: Property names that hold person data; stores keep only hashed/masked forms.
    sensitive: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relationship:
    """A directed relationship type between two (or, for polymorphic refs, several) labels."""

    type: str
    source: str
    targets: tuple[str, ...]
    zh: str
    properties: tuple[str, ...] = field(default=())


# --- node labels ---------------------------------------------------------------

ORGANIZATION: Final = "Organization"
COMMITTEE: Final = "Committee"
PARTY_ORG: Final = "PartyOrganization"
MEMBER: Final = "Member"
INSTRUCTOR: Final = "Instructor"
ALLIANCE: Final = "Alliance"
REGION: Final = "Region"
PLACE: Final = "Place"
ANNUAL_REPORT: Final = "AnnualReport"
VERIFICATION: Final = "Verification"
INGEST_RUN: Final = "IngestRun"

#: Organisation kinds (the ``org_kind`` property of an Organization node).
ENTERPRISE: Final = "enterprise"
SOCIAL_ORG: Final = "social_org"

LABELS: Final[dict[str, Label]] = {
    lab.name: lab
    for lab in (
        Label(
            ORGANIZATION,
            "uscc",
            "两新组织",
            (
                "uscc", "name", "org_kind", "entity_type", "status", "active", "inactive_on",
                "founded_on", "industry_code", "region_code", "employees", "above_scale",
                "park", "building", "address", "legal_rep", "org_type", "is_association",
                "supervisor", "party_in_charter", "member_orgs",
            ),
        ),
        Label(
            COMMITTEE,
            "code",
            "党委(工委)",
            ("code", "name", "committee_kind", "parent_code", "industries", "org_kinds",
             "region_code", "park"),
        ),
        Label(
            PARTY_ORG,
            "code",
            "党组织",
            ("code", "name", "level", "formation", "parent_code", "covers", "area",
             "founded_on", "status", "active", "inactive_on", "has_committee"),
        ),
        Label(
            MEMBER,
            "member_id",
            "党员",
            ("member_id", "name", "id_hash", "id_masked", "member_type", "party_org_code",
             "employer_uscc", "occupation", "mobile", "in_management", "phone_masked",
             "active", "inactive_on"),
            sensitive=("id_number", "phone"),
        ),
        Label(
            INSTRUCTOR,
            "instructor_id",
            "党建工作指导员",
            ("instructor_id", "name", "assigned_to", "sent_by", "assigned_on", "active",
             "inactive_on"),
        ),
        Label(
            ALLIANCE,
            "code",
            "产业链党建联盟",
            ("code", "name", "chain", "leader_uscc", "members", "lead_party_org",
             "founded_on", "active", "inactive_on"),
        ),
        Label(REGION, "code", "行政区划", ("code", "name", "parent_code", "level")),
        Label(PLACE, "key", "园区/楼宇", ("key", "name", "place_kind")),
        Label(
            ANNUAL_REPORT,
            "key",
            "企业年报党建信息",
            ("key", "uscc", "year", "party_members", "has_party_org", "formation",
             "party_org_founded"),
        ),
        Label(
            VERIFICATION,
            "uscc",
            "核查结果",
            ("uscc", "result", "checked_on", "note"),
        ),
        Label(
            INGEST_RUN,
            "run_id",
            "导入批次",
            ("run_id", "started_at", "finished_at", "status"),
        ),
    )
}

# --- relationship types --------------------------------------------------------

COVERS: Final = "COVERS"
SERVES_AREA: Final = "SERVES_AREA"
REPORTS_TO: Final = "REPORTS_TO"
MEMBER_OF: Final = "MEMBER_OF"
EMPLOYED_BY: Final = "EMPLOYED_BY"
ASSIGNED_TO: Final = "ASSIGNED_TO"
IN_REGION: Final = "IN_REGION"
IN_PLACE: Final = "IN_PLACE"
SUPPLIES: Final = "SUPPLIES"
ALLIANCE_MEMBER: Final = "ALLIANCE_MEMBER"
LED_BY: Final = "LED_BY"
GUIDED_BY: Final = "GUIDED_BY"
ASSOCIATION_MEMBER: Final = "ASSOCIATION_MEMBER"
REPORT_OF: Final = "REPORT_OF"
VERIFICATION_OF: Final = "VERIFICATION_OF"

RELATIONSHIPS: Final[dict[str, Relationship]] = {
    rel.type: rel
    for rel in (
        Relationship(COVERS, PARTY_ORG, (ORGANIZATION,), "覆盖"),
        Relationship(SERVES_AREA, PARTY_ORG, (PLACE, REGION), "统建范围"),
        # 隶属: a Party organisation belongs to a higher one or to a committee; a
        # committee belongs to exactly one parent committee.
        Relationship(REPORTS_TO, PARTY_ORG, (PARTY_ORG, COMMITTEE), "隶属"),
        Relationship(MEMBER_OF, MEMBER, (PARTY_ORG,), "所在党组织"),
        Relationship(EMPLOYED_BY, MEMBER, (ORGANIZATION,), "工作单位"),
        Relationship(ASSIGNED_TO, INSTRUCTOR, (ORGANIZATION,), "联系单位"),
        Relationship(IN_REGION, ORGANIZATION, (REGION,), "所在区划"),
        Relationship(IN_PLACE, ORGANIZATION, (PLACE,), "所在园区/楼宇"),
        Relationship(SUPPLIES, ORGANIZATION, (ORGANIZATION,), "供应", ("relation", "chain")),
        Relationship(ALLIANCE_MEMBER, ALLIANCE, (ORGANIZATION,), "联盟成员"),
        Relationship(LED_BY, ALLIANCE, (ORGANIZATION,), "链主"),
        Relationship(GUIDED_BY, ALLIANCE, (PARTY_ORG,), "牵头党组织"),
        Relationship(ASSOCIATION_MEMBER, ORGANIZATION, (ORGANIZATION,), "协会会员"),
        Relationship(REPORT_OF, ANNUAL_REPORT, (ORGANIZATION,), "年报"),
        Relationship(VERIFICATION_OF, VERIFICATION, (ORGANIZATION,), "核查"),
    )
}

#: Committee parent links share REPORTS_TO but start at a Committee.
COMMITTEE_PARENT: Final = Relationship(REPORTS_TO, COMMITTEE, (COMMITTEE,), "隶属")
#: Region hierarchy: a street lies in its county, a community in its street.
REGION_PARENT: Final = Relationship(IN_REGION, REGION, (REGION,), "上级区划")
COMMITTEE_REGION: Final = Relationship(IN_REGION, COMMITTEE, (REGION,), "所在区划")

#: every relationship the graph holds, the structural ones included
ALL_RELATIONSHIPS: Final = (*RELATIONSHIPS.values(), COMMITTEE_PARENT, REGION_PARENT,
                            COMMITTEE_REGION)


_TARGETS: Final[dict[tuple[str, str], tuple[str, ...]]] = {}
for _rel in ALL_RELATIONSHIPS:
    _TARGETS[(_rel.type, _rel.source)] = _TARGETS.get((_rel.type, _rel.source), ()) + _rel.targets


def targets(type: str, source: str) -> tuple[str, ...]:
    """The labels a ``type`` relationship from a ``source`` node may point at (one
    type can start at several labels: REPORTS_TO from a Party organisation may point
    at a Party organisation or a committee, from a committee only at a committee)."""
    return _TARGETS.get((type, source), ())

# --- controlled vocabularies ---------------------------------------------------

#: committee_kind values (the 类型 column of the committees file).
WORK_COMMITTEE: Final = "两新工委"
INDUSTRY_COMMITTEE: Final = "行业党委"
PARK_COMMITTEE: Final = "园区综合党委"
AREA_COMMITTEE: Final = "区域综合党委"

#: formation values of a Party organisation.
STANDALONE_FORMATION: Final = "单独组建"
JOINT_FORMATION: Final = "联合组建"
AREA_FORMATIONS: Final = ("区域统建", "楼宇统建", "园区统建", "行业统建")

#: place_kind values.
PARK: Final = "park"
BUILDING: Final = "building"


def place_key(kind: str, name: str) -> str:
    """The key of a park or building node: kind plus the name as registered.

    Parks and buildings arrive as free text on both the organisation and the Party
    organisation side; one normalised key lets both ends meet without a place register.
    """
    return f"{kind}:{' '.join(name.split())}"


def region_level(code: str) -> str:
    """County (6 digits), street (9) or community (12)."""
    return {6: "county", 9: "street", 12: "community"}.get(len(code), "other")


def region_parent(code: str) -> str | None:
    """The parent region derived from the code's prefix, when no register says otherwise."""
    if len(code) == 12:
        return code[:9]
    if len(code) == 9:
        return code[:6]
    if len(code) == 6 and not code.endswith("00"):
        return code[:4] + "00"
    return None
