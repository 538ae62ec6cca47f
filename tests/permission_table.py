"""Who may open each named URL, by method: written by hand from ``docs/roles.md``, never from ``ROLE_ACTIONS``.

``test_permission_matrix`` walks every named URL × GET/POST × every role of the fixtures (and a neighbouring town's
station and clerk) and compares the answer with this table. A new URL without a row fails
``test_every_named_url_is_in_the_permission_table``: add its row here, from ``docs/roles.md`` (add the capability
there first if it is new).

What the answers mean (``test_permission_matrix`` checks exactly this):

- a role **in** the set is *allowed*: GET answers 200 or 302 (or 405 when the URL takes only POST); POST — with an
  empty body — answers 200 (the form again, with its errors), 302 (done, or sent back with a message), 400 or 422
  (input refused) or 405 (the URL takes only GET). Never 401/403, and 404 only when the object lies outside the user's
  region (or is narrower still: ``SEEN_BY`` below).
- a role **not in** the set is *refused*: 403, whatever the object (the role door answers before the object is
  looked up, so a 403 says nothing about whether it exists).
- ``ANYONE``: public pages, also without signing in.
"""

from __future__ import annotations

from dataclasses import dataclass

VILLAGE_CLERK = "village_clerk"
HELPER = "helper"
TOWN_STATION = "town_station"
TOWN_LEADER = "town_leader"
DEPARTMENT = "department"
COUNTY_REVIEW = "county_review"
PROVINCE_RECORD = "province_record"
SYS_ADMIN = "sys_admin"
SEC_ADMIN = "sec_admin"
AUDIT_ADMIN = "audit_admin"

NOBODY: frozenset[str] = frozenset()
WORKING = frozenset(
    {VILLAGE_CLERK, HELPER, TOWN_STATION, TOWN_LEADER, DEPARTMENT, COUNTY_REVIEW, PROVINCE_RECORD}
)
SIGNED_IN = WORKING | {SYS_ADMIN, SEC_ADMIN, AUDIT_ADMIN}
ANYONE = SIGNED_IN | {"anonymous"}

# --- households (docs/roles.md: "Read households", "Record and change", "Import", "Export", …) ----------------------
READ_HOUSEHOLDS = frozenset(
    {VILLAGE_CLERK, HELPER, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD}
)
EXPORT_HOUSEHOLDS = frozenset({VILLAGE_CLERK, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD})
EDIT_HOUSEHOLDS = frozenset({VILLAGE_CLERK, TOWN_STATION})
IMPORT_HOUSEHOLDS = frozenset({VILLAGE_CLERK, TOWN_STATION})
# "Synchronise official status with the national system (与国家系统同步 import)": the station and the county, which
# imports only this way — so the import pages open for both capabilities.
SYNC_NATIONAL = frozenset({TOWN_STATION, COUNTY_REVIEW})
IMPORT_OR_SYNC = IMPORT_HOUSEHOLDS | SYNC_NATIONAL
WHOLE_IDS = frozenset({TOWN_STATION})
WHOLE_PHONES = frozenset({VILLAGE_CLERK, HELPER, TOWN_STATION})
RECORD_CONTACTS = frozenset({VILLAGE_CLERK, HELPER, TOWN_STATION})

# --- warnings ("Read warnings", "Record a warning …", "Complete a verification visit", "Read what is late", clues) --
READ_WARNINGS = READ_HOUSEHOLDS | {DEPARTMENT}
REPORT_IN_VILLAGE = frozenset({VILLAGE_CLERK, HELPER})
REPORT_FEEDBACK = frozenset({TOWN_STATION})
COMPLETE_VISITS = frozenset({VILLAGE_CLERK, HELPER, TOWN_STATION})
READ_OVERDUE_AND_CLUES = frozenset({TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW})
HANDLE_CLUES = frozenset({TOWN_STATION})

# --- policy, department data, screening, jobs, tokens -----------------------------------------------------------
READ_POLICY = frozenset({TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD})
SET_POLICY = frozenset({TOWN_STATION, COUNTY_REVIEW, PROVINCE_RECORD})
UPLOAD_DEPARTMENT_DATA = frozenset({TOWN_STATION, DEPARTMENT})
RUN_SCREENING = frozenset({TOWN_STATION, COUNTY_REVIEW})
SEE_JOBS = frozenset({VILLAGE_CLERK, TOWN_STATION, TOWN_LEADER, DEPARTMENT, COUNTY_REVIEW, PROVINCE_RECORD})
PERSONAL_TOKENS = WORKING

# --- the three administrators (三员分立) ------------------------------------------------------------------------------
MANAGE_REGIONS = frozenset({SYS_ADMIN})
MANAGE_USERS = frozenset({SYS_ADMIN})
ACCOUNT_SECURITY = frozenset({SEC_ADMIN})
READ_AUDIT = frozenset({AUDIT_ADMIN})
EXPORT_AUDIT = frozenset({AUDIT_ADMIN})

# --- 帮扶措施 ("帮扶措施: read", "make and change", "record progress", risk points, M8 exceptions, the catalogue) ------
READ_MEASURES = frozenset(
    {VILLAGE_CLERK, HELPER, TOWN_STATION, TOWN_LEADER, DEPARTMENT, COUNTY_REVIEW, PROVINCE_RECORD}
)
EDIT_MEASURES = frozenset({VILLAGE_CLERK, TOWN_STATION})
CARRY_OUT_MEASURES = frozenset({VILLAGE_CLERK, TOWN_STATION, DEPARTMENT})
REGISTER_RISKS = frozenset({VILLAGE_CLERK, TOWN_STATION})
CLOSE_RISKS = frozenset({VILLAGE_CLERK, TOWN_STATION})  # the village asks, the station closes
CONFIRM_RISK_CLOSING = frozenset({TOWN_STATION})
REQUEST_EXCEPTIONS = frozenset({VILLAGE_CLERK, TOWN_STATION})
APPROVE_EXCEPTIONS = frozenset({TOWN_STATION})
MANAGE_CATALOGUE = frozenset({COUNTY_REVIEW})

# --- 资金 and 消费帮扶 ("资金: read", "ask for a payment", "approve a payment", "keep the books", "消费帮扶") -----------
READ_FUNDS = frozenset({VILLAGE_CLERK, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD})
REQUEST_PAYMENTS = frozenset({VILLAGE_CLERK, TOWN_STATION})
APPROVE_PAYMENTS = frozenset({TOWN_LEADER})
KEEP_FUND_BOOKS = frozenset({TOWN_STATION})
READ_CONSUMPTION = frozenset(
    {VILLAGE_CLERK, HELPER, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD}
)
RECORD_CONSUMPTION = frozenset({VILLAGE_CLERK, TOWN_STATION})

# --- ledgers and the monthly report ("Read the ledgers and the monthly report", "Export a ledger") --------------
READ_REPORTS = READ_HOUSEHOLDS
EXPORT_LEDGERS = EXPORT_HOUSEHOLDS

# --- 审批 ("审批: read", "start", "act on one's own steps") ----------------------------------------------------------
READ_CASES = frozenset({VILLAGE_CLERK, HELPER, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD})
START_CASES = frozenset({VILLAGE_CLERK, TOWN_STATION})
ACT_ON_CASES = frozenset({VILLAGE_CLERK, TOWN_STATION, TOWN_LEADER, COUNTY_REVIEW, PROVINCE_RECORD})
EXPORT_DECISIONS = frozenset(
    {TOWN_STATION, COUNTY_REVIEW}
)  # "审批: export a period's decisions for the national system"


@dataclass(frozen=True)
class Row:
    get: frozenset[str]
    post: frozenset[str] | None = None  # None: the same roles as GET

    def allowed(self, method: str) -> frozenset[str]:
        return self.get if method == "GET" or self.post is None else self.post


def same(roles: frozenset[str]) -> Row:
    return Row(roles)


def read_then_act(read: frozenset[str], act: frozenset[str]) -> Row:
    """A page some roles read (GET) and fewer act on (POST)."""
    return Row(read, act)


PERMISSION_TABLE: dict[str, Row] = {
    # start page, own account, sign-in
    "home": same(SIGNED_IN),
    "accounts:login": same(ANYONE),
    "accounts:logout": same(ANYONE),
    "accounts:account": same(SIGNED_IN),
    "accounts:password_change": same(SIGNED_IN),
    # the second factor (docs/roles.md: "Start page, own account page, own password" — one's own second factor too;
    # required of the administrators and county-level accounts, optional for the others)
    "accounts:otp_verify": same(SIGNED_IN),
    "accounts:otp_enrol": same(SIGNED_IN),
    "accounts:otp_qr": same(SIGNED_IN),
    "accounts:otp_recovery": same(SIGNED_IN),
    "accounts:token_issue": same(PERSONAL_TOKENS),
    "accounts:token_revoke": same(PERSONAL_TOKENS),
    # administrators
    "accounts:user_list": same(MANAGE_USERS),
    "accounts:user_create": same(MANAGE_USERS),
    "accounts:user_edit": same(MANAGE_USERS),
    "accounts:security": same(ACCOUNT_SECURITY),
    "regions:region_list": same(MANAGE_REGIONS),
    "regions:region_import": same(MANAGE_REGIONS),
    "core:audit_list": same(READ_AUDIT),
    "core:audit_verify": same(READ_AUDIT),
    "core:audit_export": same(EXPORT_AUDIT),
    # jobs (each job further narrowed to those who may do what produced it: SEEN_BY)
    "core:job_list": same(SEE_JOBS),
    "core:job_detail": same(SEE_JOBS),
    "core:job_retry": same(
        SEE_JOBS
    ),  # only its starter's retry queues it; others are sent back with a message
    "transfer:job": same(SEE_JOBS),
    "transfer:job_problems": same(SEE_JOBS),
    "transfer:job_download": same(SEE_JOBS),
    # households
    "registry:household_list": same(READ_HOUSEHOLDS),  # POST: the filter form
    "registry:household_count": same(READ_HOUSEHOLDS),
    "registry:household_detail": same(READ_HOUSEHOLDS),
    "registry:helper_workload": same(READ_HOUSEHOLDS),
    "contacts:contact_ledger": same(READ_HOUSEHOLDS),
    "contacts:contact_ledger_export": same(EXPORT_HOUSEHOLDS),
    "registry:household_create": same(EDIT_HOUSEHOLDS),
    "registry:household_edit": same(EDIT_HOUSEHOLDS),
    "registry:member_add": same(EDIT_HOUSEHOLDS),
    "registry:member_edit": same(EDIT_HOUSEHOLDS),
    "registry:member_remove": same(EDIT_HOUSEHOLDS),
    "registry:head_change": same(EDIT_HOUSEHOLDS),
    "registry:household_split": same(EDIT_HOUSEHOLDS),
    "registry:household_merge": same(EDIT_HOUSEHOLDS),
    "registry:household_helper": same(EDIT_HOUSEHOLDS),
    "registry:helpers_assign": same(EDIT_HOUSEHOLDS),
    "contacts:household_contact": same(RECORD_CONTACTS),
    "registry:member_reveal_id": same(WHOLE_IDS),
    "registry:household_reveal_phone": same(WHOLE_PHONES),
    "registry:member_reveal_phone": same(WHOLE_PHONES),
    "transfer:import": same(IMPORT_OR_SYNC),
    "transfer:template": same(IMPORT_OR_SYNC),
    "transfer:import_checked": same(IMPORT_OR_SYNC),
    "transfer:export": same(EXPORT_HOUSEHOLDS),
    # policy
    "policy:parameter_list": read_then_act(READ_POLICY, SET_POLICY),
    # warnings, tasks, risks, clues
    "monitoring:warning_list": same(READ_WARNINGS),
    "monitoring:warning_export": same(READ_WARNINGS),
    "monitoring:warning_detail": same(READ_WARNINGS),
    "monitoring:task_list": same(READ_WARNINGS),
    "monitoring:task_detail": read_then_act(READ_WARNINGS, COMPLETE_VISITS),
    "monitoring:risk_list": same(READ_WARNINGS),
    "monitoring:overdue": same(READ_OVERDUE_AND_CLUES),
    "monitoring:clue_list": same(READ_OVERDUE_AND_CLUES),
    "monitoring:clue_detail": read_then_act(READ_OVERDUE_AND_CLUES, HANDLE_CLUES),
    "monitoring:warning_report": same(REPORT_IN_VILLAGE),
    "monitoring:warning_feedback": same(REPORT_FEEDBACK),
    # department data, screening, department systems' tokens
    "department:batch_list": same(UPLOAD_DEPARTMENT_DATA),
    "department:batch_upload": same(UPLOAD_DEPARTMENT_DATA),
    "department:batch_job": same(UPLOAD_DEPARTMENT_DATA),
    "department:batch_template": same(UPLOAD_DEPARTMENT_DATA),
    "department:batch_detail": same(UPLOAD_DEPARTMENT_DATA),
    "department:batch_unmatched": same(UPLOAD_DEPARTMENT_DATA),
    "department:screening_list": same(RUN_SCREENING),
    "department:screening_start": same(RUN_SCREENING),
    "department:token_list": same(RUN_SCREENING),
    "department:token_revoke": same(RUN_SCREENING),
    # 帮扶措施 (the catalogue page is read by all who read measures; adding and retiring entries is the county's)
    "assistance:measure_list": same(READ_MEASURES),
    "assistance:measure_doubts": same(READ_MEASURES),
    "assistance:measure_export": same(READ_MEASURES),
    "assistance:measure_detail": same(READ_MEASURES),
    "assistance:evidence_file": same(READ_MEASURES),
    "assistance:measure_todo": same(CARRY_OUT_MEASURES),
    "assistance:measure_progress": same(CARRY_OUT_MEASURES),
    "assistance:measure_evidence": same(CARRY_OUT_MEASURES),
    "assistance:measure_add": same(EDIT_MEASURES),
    "assistance:risk_add": same(REGISTER_RISKS),
    "assistance:risk_close": same(CLOSE_RISKS),
    "assistance:risk_decide": same(CONFIRM_RISK_CLOSING),
    "assistance:exception_add": same(REQUEST_EXCEPTIONS),
    "assistance:exception_decide": same(APPROVE_EXCEPTIONS),
    "assistance:catalogue": same(READ_MEASURES),
    "assistance:catalogue_add": same(MANAGE_CATALOGUE),
    "assistance:catalogue_toggle": same(MANAGE_CATALOGUE),
    # 资金
    "assistance:fund_list": same(READ_FUNDS),
    "assistance:fund_ledger": same(READ_FUNDS),
    "assistance:fund_export": same(READ_FUNDS),
    "assistance:fund_requests": same(READ_FUNDS),
    "assistance:fund_request_add": same(REQUEST_PAYMENTS),
    "assistance:fund_decide": same(APPROVE_PAYMENTS),
    "assistance:fund_add": same(KEEP_FUND_BOOKS),
    "assistance:fund_receive": same(KEEP_FUND_BOOKS),
    "assistance:fund_pay": same(KEEP_FUND_BOOKS),
    "assistance:fund_reverse": same(KEEP_FUND_BOOKS),
    # 消费帮扶
    "assistance:consumption": same(READ_CONSUMPTION),
    "assistance:consumption_export": same(READ_CONSUMPTION),
    "assistance:product_add": same(RECORD_CONSUMPTION),
    "assistance:sale_add": same(RECORD_CONSUMPTION),
    # ledgers and the monthly report (a ledger job further narrowed: SEEN_BY)
    "reports:ledger_index": same(READ_REPORTS),
    "reports:ledger": same(READ_REPORTS),
    "reports:monthly": same(READ_REPORTS),
    "reports:monthly_export": same(READ_REPORTS),
    "reports:ledger_export": same(EXPORT_LEDGERS),
    "reports:ledger_job": same(EXPORT_LEDGERS),
    "reports:ledger_job_download": same(EXPORT_LEDGERS),
    # 审批 (acting on a step: only the step's role gets past the form — the door is the same for all who act)
    "workflows:inbox": same(READ_CASES),
    "workflows:case_list": same(READ_CASES),
    "workflows:case_detail": same(READ_CASES),
    "workflows:attachment_file": same(READ_CASES),
    "workflows:case_start": same(START_CASES),
    "workflows:case_act": same(ACT_ON_CASES),
    "workflows:case_attach": same(ACT_ON_CASES),
    "workflows:batch": same(ACT_ON_CASES),
    "workflows:notice": same(ACT_ON_CASES),
    "workflows:decisions_export": same(EXPORT_DECISIONS),
    # the public self-report page; the API's own documents (its operations are unnamed: tests/api walks them)
    "public:self_report": same(ANYONE),
    "public:thanks": same(ANYONE),
    "api:api-root": same(ANYONE),
    "api:openapi-json": same(ANYONE),
}

# Objects narrower than their region: of the fixtures' home users whose region holds the object and whose role may
# open the URL, only these see it (the rest get 404). A job is seen by those who may do what produced it
# (docs/roles.md "See the background jobs of what one may do"); whole ID numbers are the station's.
SEEN_BY: dict[str, frozenset[str]] = {
    "screening job": RUN_SCREENING,
    "household import job": IMPORT_HOUSEHOLDS,
    "export with whole IDs": WHOLE_IDS,
    "department import job": UPLOAD_DEPARTMENT_DATA,
    "ledger export job": EXPORT_LEDGERS,
    # 帮扶措施 assigned to another department than the fixtures' (医保): a department sees its own field's only
    "measure of another department": READ_MEASURES - {DEPARTMENT},
}
