//! Every schema version Interlink has written, by schema id. Ids are assigned here,
//! once, and never reused: `<record number> * 100 + <version>`. With a Schema
//! Registry in front, register these texts under the same ids.

use apache_avro::Schema;
use std::sync::LazyLock;

/// A schema version and the id that frames its records.
pub struct SchemaVersion {
    pub id: u32,
    pub record: &'static str,
    pub text: &'static str,
    pub schema: LazyLock<Schema>,
}

macro_rules! schema_version {
    ($id:expr, $record:literal, $file:literal) => {
        SchemaVersion {
            id: $id,
            record: $record,
            text: include_str!(concat!("../", $file)),
            schema: LazyLock::new(|| {
                Schema::parse_str(include_str!(concat!("../", $file)))
                    .expect(concat!($file, " is a valid Avro schema (checked by tests)"))
            }),
        }
    };
}

pub static AUTHORIZATION_REQUEST_V1: SchemaVersion =
    schema_version!(101, "AuthorizationRequest", "authorization_request.avsc");
/// Adds `debtor_name`, `debtor_id` and `creditor_name` (default null): per-person
/// limits and screening.
pub static AUTHORIZATION_REQUEST_V2: SchemaVersion =
    schema_version!(102, "AuthorizationRequest", "authorization_request_v2.avsc");
/// Adds `device_id` (default null): device velocity rules.
pub static AUTHORIZATION_REQUEST_V3: SchemaVersion =
    schema_version!(103, "AuthorizationRequest", "authorization_request_v3.avsc");
pub static CLEARING_RECORD_V1: SchemaVersion = schema_version!(201, "ClearingRecord", "clearing_record.avsc");
/// Adds `reverses` (default null): a return of an earlier payment.
pub static CLEARING_RECORD_V2: SchemaVersion = schema_version!(202, "ClearingRecord", "clearing_record_v2.avsc");
/// Adds `debit_settlement_cycle` and `credit_settlement_cycle` (default null): the
/// netting cycles the record falls in.
pub static CLEARING_RECORD_V3: SchemaVersion = schema_version!(203, "ClearingRecord", "clearing_record_v3.avsc");
pub static NOTIFICATION_V1: SchemaVersion = schema_version!(301, "Notification", "notification.avsc");
/// Adds `repeat` (default false): the answer to a request sent again.
pub static NOTIFICATION_V2: SchemaVersion = schema_version!(302, "Notification", "notification_v2.avsc");
pub static DEAD_LETTER_V1: SchemaVersion = schema_version!(401, "DeadLetter", "dead_letter.avsc");
pub static PAYMENT_RETURN_V1: SchemaVersion = schema_version!(501, "PaymentReturn", "payment_return.avsc");
pub static RISK_ALERT_V1: SchemaVersion = schema_version!(601, "RiskAlert", "risk_alert.avsc");
/// Adds the ANOMALY control, the APPROVED action, `review_key` and `review_deadline`
/// (default null): holding payments for review.
pub static RISK_ALERT_V2: SchemaVersion = schema_version!(602, "RiskAlert", "risk_alert_v2.avsc");
pub static SETTLEMENT_RECORD_V1: SchemaVersion = schema_version!(701, "SettlementRecord", "settlement_record.avsc");

/// All known versions, newest last within each record.
pub static ALL: [&SchemaVersion; 13] = [
    &AUTHORIZATION_REQUEST_V1,
    &AUTHORIZATION_REQUEST_V2,
    &AUTHORIZATION_REQUEST_V3,
    &CLEARING_RECORD_V1,
    &CLEARING_RECORD_V2,
    &CLEARING_RECORD_V3,
    &NOTIFICATION_V1,
    &NOTIFICATION_V2,
    &DEAD_LETTER_V1,
    &PAYMENT_RETURN_V1,
    &RISK_ALERT_V1,
    &RISK_ALERT_V2,
    &SETTLEMENT_RECORD_V1,
];

pub fn by_id(id: u32) -> Option<&'static SchemaVersion> {
    ALL.iter().copied().find(|v| v.id == id)
}
