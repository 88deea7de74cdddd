//! The connector contract: one implementation per network, registered in [`crate::registry`].

use crate::account::AccountForm;
use crate::canonical::{Alias, AliasScheme, CanonicalPayment, CanonicalReturn, CanonicalStatus, IsoReason};
use crate::{money, IdSchemeError, NetworkProfile};

/// Messages larger than this are rejected before any parsing.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Which side of a payment a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Debtor,
    Creditor,
}

/// Why a message could not be translated. [`ConnectorError::iso_reason`] gives the
/// ExternalStatusReason1Code to send back to whoever sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    #[error("message is not well-formed XML: {0}")]
    MalformedXml(String),
    #[error("namespace {found:?} is not accepted here (expected {expected})")]
    WrongNamespace { found: String, expected: String },
    #[error("unsupported message: {0}")]
    UnsupportedMessage(String),
    #[error("mandatory field {0} is missing")]
    MissingField(String),
    #[error("field {path} is invalid: {reason}")]
    InvalidField { path: String, reason: String },
    #[error("participant id at {path} is invalid: {source}")]
    InvalidParticipantId {
        path: String,
        #[source]
        source: IdSchemeError,
    },
    #[error("agent at {path} is not usable here: {reason}")]
    UnknownAgent { path: String, reason: String },
    #[error("{side:?} account at {path} is invalid: {reason}")]
    InvalidAccount { side: Side, path: String, reason: String },
    #[error("{network} does not resolve {scheme} aliases")]
    AliasNotSupported { network: &'static str, scheme: AliasScheme },
    #[error("{scheme} alias {value:?} is invalid: {reason}")]
    InvalidAlias { scheme: AliasScheme, value: String, reason: String },
    #[error("message of {size} bytes is larger than the {max} bytes accepted")]
    Oversized { size: usize, max: usize },
    #[error("amount at {path} is invalid: {reason}")]
    InvalidAmount { path: String, reason: String },
    #[error("amount {minor_units} (minor units of {currency}) exceeds the per-transaction limit {limit_minor_units}")]
    AmountNotAllowed { minor_units: i64, currency: String, limit_minor_units: i64 },
    #[error("currency {found:?} is not allowed (expected {expected})")]
    CurrencyNotAllowed { found: String, expected: String },
}

impl ConnectorError {
    /// The ISO 20022 reason to report to the origin of the rejected message.
    pub fn iso_reason(&self) -> IsoReason {
        match self {
            Self::MalformedXml(_)
            | Self::WrongNamespace { .. }
            | Self::UnsupportedMessage(_)
            | Self::MissingField(_)
            | Self::InvalidField { .. }
            | Self::Oversized { .. } => IsoReason::FF01,
            Self::InvalidParticipantId { .. } | Self::UnknownAgent { .. } => IsoReason::RC01,
            Self::InvalidAccount { side: Side::Debtor, .. } => IsoReason::AC02,
            Self::InvalidAccount { side: Side::Creditor, .. } => IsoReason::AC03,
            Self::AliasNotSupported { .. } | Self::InvalidAlias { .. } => IsoReason::BE23,
            Self::InvalidAmount { .. } => IsoReason::AM12,
            Self::AmountNotAllowed { .. } => IsoReason::AM02,
            Self::CurrencyNotAllowed { .. } => IsoReason::AM03,
        }
    }

    pub(crate) fn invalid(path: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::InvalidField { path: path.into(), reason: reason.to_string() }
    }
}

/// A scheme's per-transaction maximum, in minor units of the network currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountLimit {
    pub max_minor_units: i64,
    /// Where the figure comes from ("assumed" when no public source was found).
    pub source: &'static str,
}

/// The message definitions a connector emits and accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageVersions {
    /// Emitted payment message (`pacs.008.001.08`, or `upi:ReqPay 2.0`).
    pub payment: &'static str,
    /// Payment message versions accepted on input.
    pub payment_accepted: Vec<&'static str>,
    /// Emitted status message.
    pub status: &'static str,
    pub status_accepted: Vec<&'static str>,
    /// Business Application Header emitted around every message, if any.
    pub header: Option<&'static str>,
    /// Header versions accepted on input (a message without a header is accepted too).
    pub header_accepted: Vec<&'static str>,
    /// The envelope emitted around header and document ("ISO business message", "FedNow
    /// envelope", "BCB SPI envelope", or the network's own format).
    pub envelope: &'static str,
}

/// The form a network message was recognised in: what `interlinkctl connectors decode`
/// prints beside the canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageForm {
    /// Message definition (`pacs.008.001.08`, `pacs.002.spi.1.14`, `upi:ReqPay`).
    pub message: &'static str,
    /// The document's namespace.
    pub namespace: &'static str,
    /// The envelope's elements down to the document, or "none".
    pub envelope: String,
    /// The header and its namespace, when there was one.
    pub header: Option<String>,
}

/// One payment network at Interlink's edge: pure translation between the network's messages
/// and the canonical model, plus the network's business rules. No I/O.
///
/// Directions: `encode_payment` builds the message Interlink sends *into* the network (the
/// creditor is the network's customer); `decode_payment` reads a payment the network sends
/// *to* Interlink (the debtor is the network's customer). `encode_status`/`decode_status`
/// build and read the status report for either direction.
pub trait Connector: Send + Sync {
    /// Identity, currency and participant-id scheme.
    fn profile(&self) -> &'static NetworkProfile;

    /// Message definitions emitted and accepted.
    fn message_versions(&self) -> MessageVersions;

    /// Alias schemes the network resolves.
    fn alias_schemes(&self) -> &'static [AliasScheme];

    /// Checks an alias against the network's rules for its scheme.
    fn validate_alias(&self, alias: &Alias) -> Result<(), ConnectorError>;

    /// The scheme's per-transaction maximum, where one is published.
    fn amount_limit(&self) -> Option<AmountLimit>;

    /// The form of account number the network's own customers hold, so that a caller making
    /// payments up (the load generator, a simulator) can give them one the network accepts:
    /// `connector.account_form().example(n)`. Local digits unless the network says otherwise.
    fn account_form(&self) -> AccountForm {
        AccountForm::LOCAL_DIGITS
    }

    /// Checks an amount moving in this network: the network's currency, positive, within the
    /// per-transaction limit.
    fn check_amount(&self, minor_units: i64, currency: &str) -> Result<(), ConnectorError> {
        let expected = self.profile().currency;
        if currency != expected {
            return Err(ConnectorError::CurrencyNotAllowed { found: currency.to_string(), expected: expected.into() });
        }
        if minor_units <= 0 {
            return Err(ConnectorError::InvalidAmount {
                path: "amount".into(),
                reason: format!("{minor_units} is not greater than zero"),
            });
        }
        money::exponent(currency)?;
        match self.amount_limit() {
            Some(limit) if minor_units > limit.max_minor_units => Err(ConnectorError::AmountNotAllowed {
                minor_units,
                currency: currency.to_string(),
                limit_minor_units: limit.max_minor_units,
            }),
            _ => Ok(()),
        }
    }

    /// Builds the network's credit-transfer message (pacs.008, or the network's own).
    fn encode_payment(&self, payment: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError>;

    /// Reads a credit transfer the network sent.
    fn decode_payment(&self, message: &[u8]) -> Result<CanonicalPayment, ConnectorError>;

    /// [`decode_payment`](Self::decode_payment) for a message the network sent *to*
    /// Interlink: the debtor's agent must be a participant of this network (`RC01` otherwise).
    fn decode_inbound_payment(&self, message: &[u8]) -> Result<CanonicalPayment, ConnectorError> {
        let payment = self.decode_payment(message)?;
        if payment.debtor.agent.network != self.profile().id {
            return Err(ConnectorError::UnknownAgent {
                path: "debtor.agent".into(),
                reason: format!(
                    "a payment from {} must come from one of its participants, not from {}",
                    self.profile().id,
                    payment.debtor.agent.network
                ),
            });
        }
        Ok(payment)
    }

    /// Builds the network's status report (pacs.002, or the network's own).
    fn encode_status(&self, status: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError>;

    /// Reads a status report the network sent.
    fn decode_status(&self, message: &[u8]) -> Result<CanonicalStatus, ConnectorError>;

    /// What of `payment` survives `encode_payment` then `decode_payment`: fields the
    /// network's message cannot carry are dropped or normalised.
    fn carried_payment(&self, payment: &CanonicalPayment) -> CanonicalPayment;

    /// What of `status` survives `encode_status` then `decode_status`.
    fn carried_status(&self, status: &CanonicalStatus) -> CanonicalStatus;

    /// The version, namespace and envelope a message arrived in, when the connector
    /// recognises it as one of its payments, status reports or returns; `None` when the
    /// connector does not report forms.
    fn message_form(&self, _message: &[u8]) -> Option<MessageForm> {
        None
    }

    /// Builds the network's return of a settled payment: a pacs.004, or the network's
    /// own reversal message (UPI's `ReqPay` of type REVERSAL). A network without one
    /// refuses, and the operator returns the funds by hand.
    fn encode_return(&self, _return: &CanonicalReturn) -> Result<Vec<u8>, ConnectorError> {
        Err(ConnectorError::UnsupportedMessage(format!("{} has no payment return message here yet", self.profile().id)))
    }

    /// Reads a return the network sent.
    fn decode_return(&self, _message: &[u8]) -> Result<CanonicalReturn, ConnectorError> {
        Err(ConnectorError::UnsupportedMessage(format!("{} has no payment return message here yet", self.profile().id)))
    }
}

/// Rejects messages over [`MAX_MESSAGE_BYTES`] and non-UTF-8 input, before parsing.
pub(crate) fn admit(message: &[u8]) -> Result<&str, ConnectorError> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(ConnectorError::Oversized { size: message.len(), max: MAX_MESSAGE_BYTES });
    }
    std::str::from_utf8(message).map_err(|e| ConnectorError::MalformedXml(format!("not UTF-8: {e}")))
}

/// Checks that an alias's scheme is one of `schemes`, then runs the scheme's validator.
pub(crate) fn check_alias_scheme(
    network: &'static str,
    schemes: &[AliasScheme],
    alias: &Alias,
) -> Result<(), ConnectorError> {
    if schemes.contains(&alias.scheme) {
        Ok(())
    } else {
        Err(ConnectorError::AliasNotSupported { network, scheme: alias.scheme })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_reason() {
        let cases = [
            (ConnectorError::MalformedXml("x".into()), "FF01"),
            (ConnectorError::Oversized { size: 1, max: 0 }, "FF01"),
            (ConnectorError::MissingField("a/b".into()), "FF01"),
            (ConnectorError::UnknownAgent { path: "p".into(), reason: "r".into() }, "RC01"),
            (ConnectorError::InvalidAccount { side: Side::Creditor, path: "p".into(), reason: "r".into() }, "AC03"),
            (ConnectorError::InvalidAccount { side: Side::Debtor, path: "p".into(), reason: "r".into() }, "AC02"),
            (ConnectorError::AliasNotSupported { network: "US_FEDNOW", scheme: AliasScheme::Email }, "BE23"),
            (ConnectorError::InvalidAmount { path: "p".into(), reason: "r".into() }, "AM12"),
            (ConnectorError::AmountNotAllowed { minor_units: 2, currency: "USD".into(), limit_minor_units: 1 }, "AM02"),
            (ConnectorError::CurrencyNotAllowed { found: "USD".into(), expected: "EUR".into() }, "AM03"),
        ];
        for (e, code) in cases {
            assert_eq!(e.iso_reason().code(), code, "{e}");
        }
    }

    #[test]
    fn admission() {
        assert!(matches!(admit(&vec![b' '; MAX_MESSAGE_BYTES + 1]), Err(ConnectorError::Oversized { .. })));
        assert!(matches!(admit(&[0xff, 0xfe]), Err(ConnectorError::MalformedXml(_))));
        assert_eq!(admit(b"<a/>").unwrap(), "<a/>");
    }
}
