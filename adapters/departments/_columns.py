"""Column blocks that several native exports share (监管行为 institution, object and counterpart columns).

Each column lists the department system's own header first, then the standard's Chinese label and the
aliases seen in real exports (委托部门 ≡ 受委托部门, 监管对象类型 ≡ 监管行为监管对象类型).
"""

from __future__ import annotations

from typing import Final

from adapters.native import Column, listed, moment, text

__all__ = ["COUNTERPART", "INSTITUTION", "OBJECT", "REPORT"]

INSTITUTION: Final = (
    Column("implementInstitution", ("实施机构", "执法机关"), text(100)),
    Column("implementInstitutionCode", ("实施机构统一社会信用代码", "实施机构编码"), text(20)),
    Column("entrustedDepartment", ("受委托部门", "委托部门"), text(100)),
    Column("entrustedDepartmentCode", ("受委托部门编码", "委托部门编码"), text(20)),
)
OBJECT: Final = (
    Column("superviseObjectType", ("监管对象类型", "监管行为监管对象类型"), listed("object_type")),
    Column("superviseObjectName", ("监管对象", "监管对象名称"), text(200), required=True),
)
COUNTERPART: Final = (
    Column(
        "counterpartName", ("当事人名称", "行政相对人（单位/个人）", "行政相对人"), text(200), required=True
    ),
    Column("counterpartCategory", ("当事人性质", "行政相对人性质"), listed("party_category"), required=True),
    Column(
        "counterpartIdType", ("证件类型", "行政相对人证件类型"), listed("certificate_type"), required=True
    ),
    Column(
        "counterpartIdCode",
        ("统一社会信用代码/身份证号", "行政相对人（单位/个人）编码", "行政相对人编码"),
        text(20),
        required=True,
    ),
    Column("registeredAddress", ("注册地址", "住所"), text(400)),
    Column("businessAddress", ("经营地址", "经营场所"), text(400)),
    Column("regionCode", ("行政区划", "行政区划代码"), text(6), required=True),
)
REPORT: Final = (
    Column("reportTime", ("报送时间", "上报时间"), moment),
    Column("reportPerson", ("报送人", "报送人员"), text(50)),
)
