//! The status of a payment: ISO 20022 ExternalPaymentTransactionStatus1Code.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 20022 ExternalPaymentTransactionStatus1Code values Interlink uses. The same enum
/// is the Avro `TransactionStatus` of a notification and the `TxSts` of a pacs.002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Accepted technical validation.
    ACTC,
    /// Accepted, settlement in process.
    ACSP,
    /// Accepted, settlement completed.
    ACCC,
    /// Accepted without posting.
    ACWP,
    /// Rejected.
    RJCT,
    /// Blocked.
    BLCK,
    /// Pending.
    PDNG,
}

/// What a status means for the payment it reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finality {
    /// The money moved; nothing follows.
    Settled,
    /// The payment is refused for good; nothing follows.
    Refused,
    /// A later status will follow.
    NotFinal,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] =
        [Self::ACTC, Self::ACSP, Self::ACCC, Self::ACWP, Self::RJCT, Self::BLCK, Self::PDNG];

    pub fn code(self) -> &'static str {
        match self {
            Self::ACTC => "ACTC",
            Self::ACSP => "ACSP",
            Self::ACCC => "ACCC",
            Self::ACWP => "ACWP",
            Self::RJCT => "RJCT",
            Self::BLCK => "BLCK",
            Self::PDNG => "PDNG",
        }
    }

    /// Exhaustive on purpose: a new status must be given a meaning here.
    pub fn finality(self) -> Finality {
        match self {
            Self::ACCC => Finality::Settled,
            Self::RJCT | Self::BLCK => Finality::Refused,
            Self::ACTC | Self::ACSP | Self::ACWP | Self::PDNG => Finality::NotFinal,
        }
    }

    /// Whether no further status follows this one.
    pub fn is_final(self) -> bool {
        self.finality() != Finality::NotFinal
    }
}

/// A code that is not a [`PaymentStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a transaction status")]
pub struct UnknownStatus(pub String);

impl FromStr for PaymentStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.code() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_codes_and_a_meaning() {
        for s in PaymentStatus::ALL {
            assert_eq!(s.code().parse::<PaymentStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.code()));
        }
        assert_eq!(PaymentStatus::ACCC.finality(), Finality::Settled);
        assert_eq!(PaymentStatus::BLCK.finality(), Finality::Refused);
        assert!(!PaymentStatus::PDNG.is_final());
        assert_eq!("ACSC".parse::<PaymentStatus>(), Err(UnknownStatus("ACSC".into())));
    }
}
