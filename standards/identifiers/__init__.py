"""Identifier checks with the standards' exact algorithms (SC-16 基础代码).

Every ``*_problems`` function is pure and returns a list of :class:`IdProblem` (empty when the value is
valid); ``is_valid_*`` are conveniences that ignore warnings; ``*_check_char`` compute check characters.

Problem codes (E = error, W = warning):

- USCC (GB 32100): USCC_LENGTH, USCC_CHARSET, USCC_REGISTRATION_DEPARTMENT, USCC_INSTITUTION_TYPE,
  USCC_REGION_FORMAT, USCC_CHECK (E); USCC_REGION_UNKNOWN, USCC_ORG_CODE_CHECK (W).
- Organisation code (GB 11714): ORG_CODE_LENGTH, ORG_CODE_CHARSET, ORG_CODE_CHECK (E); ORG_CODE_RESERVED (W).
- Citizen ID (GB 11643): ID_LENGTH, ID_CHARSET, ID_BIRTH_DATE, ID_BIRTH_FUTURE, ID_CHECK (E);
  ID_LEGACY_15, ID_LOWERCASE_X, ID_REGION_UNKNOWN, ID_REGION_RETIRED, ID_REGION_NOT_YET (W).
- Phone: PHONE_FORMAT (E); PHONE_NO_AREA_CODE (W). Dates: DATE_FORMAT, DATE_INVALID, DATETIME_FORMAT,
  DATETIME_INVALID (E).
"""

from standards.identifiers.citizen_id import (
    citizen_id_check_char,
    citizen_id_problems,
    citizen_id_to_18,
    is_valid_citizen_id,
)
from standards.identifiers.dates import date_problems, datetime_problems, parse_date, parse_datetime
from standards.identifiers.org_code import is_valid_org_code, org_code_check_char, org_code_problems
from standards.identifiers.phone import is_valid_phone, phone_problems
from standards.identifiers.problem import IdProblem, InvalidIdentifier, Severity
from standards.identifiers.uscc import ALPHABET as USCC_ALPHABET
from standards.identifiers.uscc import is_valid_uscc, uscc_check_char, uscc_problems

__all__ = [
    "USCC_ALPHABET",
    "IdProblem",
    "InvalidIdentifier",
    "Severity",
    "citizen_id_check_char",
    "citizen_id_problems",
    "citizen_id_to_18",
    "date_problems",
    "datetime_problems",
    "is_valid_citizen_id",
    "is_valid_org_code",
    "is_valid_phone",
    "is_valid_uscc",
    "org_code_check_char",
    "org_code_problems",
    "parse_date",
    "parse_datetime",
    "phone_problems",
    "uscc_check_char",
    "uscc_problems",
]
