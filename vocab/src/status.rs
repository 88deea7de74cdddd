//! The status of a payment: ISO 20022 ExternalPaymentTransactionStatus1Code.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 20022 ExternalPaymentTransactionStatus1Code: every code of the published list
/// (ISO 20022 External Code Sets), each with one meaning for a payment in [`finality`].
/// The same enum is the `TxSts` of a pacs.002 and, for the statuses the switch reports
/// to the parties, the Avro `TransactionStatus` of a notification.
///
/// [`finality`]: PaymentStatus::finality
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Accepted, settlement completed on the creditor's account (AcceptedSettlementCompletedCreditorAccount).
    ACCC,
    /// Accepted, customer profile checked (AcceptedCustomerProfile).
    ACCP,
    /// Accepted, funds checked (AcceptedFundsChecked).
    ACFC,
    /// Accepted, funds checked, awaiting the initiating party's confirmation.
    ACFW,
    /// Accepted and cheque issued, not yet deposited or cleared (AcceptedandChequeIssued).
    ACIS,
    /// Accepted by the clearing (AcceptedClearingProcessed).
    ACPD,
    /// Accepted, settlement completed (AcceptedSettlementCompleted): a market infrastructure tells its participant the settlement entry is made (FedNow, to the debtor's institution; Pix's SPI, to the payer's PSP).
    ACSC,
    /// Accepted, settlement in process (AcceptedSettlementInProcess).
    ACSP,
    /// Accepted technical validation (AcceptedTechnicalValidation).
    ACTC,
    /// Accepted with change (AcceptedWithChange).
    ACWC,
    /// Accepted without posting to the creditor's account (AcceptedWithoutPosting).
    ACWP,
    /// Blocked after ACWP: funds neither posted to the creditor nor returned to the debtor (Blocked).
    BLCK,
    /// Cancelled after a cancellation request (Cancelled).
    CANC,
    /// Cash picked up by the creditor.
    CPUC,
    /// Partially accepted (PartiallyAccepted): a group-status code in the current list, listed for transactions in earlier releases and by Berlin Group APIs.
    PART,
    /// Partially accepted, technically correct: some authentications still outstanding (PartiallyAcceptedTechnicalCorrect).
    PATC,
    /// Pending (Pending).
    PDNG,
    /// Request for payment presented to the debtor (Presented).
    PRES,
    /// Verification of payee complete, no mismatch.
    RCVC,
    /// Received (Received).
    RCVD,
    /// Rejected (Rejected).
    RJCT,
    /// Verification of payee complete, data mismatching.
    RVCM,
    /// Verification of payee complete, close match.
    RVMC,
    /// Verification of payee complete, not applicable.
    RVNA,
    /// Verification of party not yet completed.
    RVNC,
    /// Verification of payee complete, no match.
    RVNM,
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
    pub const ALL: [PaymentStatus; 26] = [
        Self::ACCC,
        Self::ACCP,
        Self::ACFC,
        Self::ACFW,
        Self::ACIS,
        Self::ACPD,
        Self::ACSC,
        Self::ACSP,
        Self::ACTC,
        Self::ACWC,
        Self::ACWP,
        Self::BLCK,
        Self::CANC,
        Self::CPUC,
        Self::PART,
        Self::PATC,
        Self::PDNG,
        Self::PRES,
        Self::RCVC,
        Self::RCVD,
        Self::RJCT,
        Self::RVCM,
        Self::RVMC,
        Self::RVNA,
        Self::RVNC,
        Self::RVNM,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::ACCC => "ACCC",
            Self::ACCP => "ACCP",
            Self::ACFC => "ACFC",
            Self::ACFW => "ACFW",
            Self::ACIS => "ACIS",
            Self::ACPD => "ACPD",
            Self::ACSC => "ACSC",
            Self::ACSP => "ACSP",
            Self::ACTC => "ACTC",
            Self::ACWC => "ACWC",
            Self::ACWP => "ACWP",
            Self::BLCK => "BLCK",
            Self::CANC => "CANC",
            Self::CPUC => "CPUC",
            Self::PART => "PART",
            Self::PATC => "PATC",
            Self::PDNG => "PDNG",
            Self::PRES => "PRES",
            Self::RCVC => "RCVC",
            Self::RCVD => "RCVD",
            Self::RJCT => "RJCT",
            Self::RVCM => "RVCM",
            Self::RVMC => "RVMC",
            Self::RVNA => "RVNA",
            Self::RVNC => "RVNC",
            Self::RVNM => "RVNM",
        }
    }

    /// Exhaustive on purpose: a new status must be given a meaning here.
    ///
    /// Settled: ACCC and ACSC (the settlement entry is made; FedNow and Pix's SPI report
    /// ACSC to the debtor's side) and CPUC (the creditor took the cash). Refused: RJCT,
    /// CANC, and BLCK, whose funds are neither posted nor returned by the network, so the
    /// payment cannot complete through it (BIS Nexus treats it as final with ACCC and
    /// RJCT). Every other code reports a step on the way and a later status follows.
    pub fn finality(self) -> Finality {
        match self {
            Self::ACCC | Self::ACSC | Self::CPUC => Finality::Settled,
            Self::RJCT | Self::CANC | Self::BLCK => Finality::Refused,
            Self::ACCP
            | Self::ACFC
            | Self::ACFW
            | Self::ACIS
            | Self::ACPD
            | Self::ACSP
            | Self::ACTC
            | Self::ACWC
            | Self::ACWP
            | Self::PART
            | Self::PATC
            | Self::PDNG
            | Self::PRES
            | Self::RCVC
            | Self::RCVD
            | Self::RVCM
            | Self::RVMC
            | Self::RVNA
            | Self::RVNC
            | Self::RVNM => Finality::NotFinal,
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

    /// The decision for every code of the published list, written out once more so that a
    /// change to `finality` has to change this table too.
    #[test]
    fn every_code_has_the_published_meaning() {
        use Finality::*;
        let table = [
            ("ACCC", Settled),
            ("ACCP", NotFinal),
            ("ACFC", NotFinal),
            ("ACFW", NotFinal),
            ("ACIS", NotFinal),
            ("ACPD", NotFinal),
            ("ACSC", Settled),
            ("ACSP", NotFinal),
            ("ACTC", NotFinal),
            ("ACWC", NotFinal),
            ("ACWP", NotFinal),
            ("BLCK", Refused),
            ("CANC", Refused),
            ("CPUC", Settled),
            ("PART", NotFinal),
            ("PATC", NotFinal),
            ("PDNG", NotFinal),
            ("PRES", NotFinal),
            ("RCVC", NotFinal),
            ("RCVD", NotFinal),
            ("RJCT", Refused),
            ("RVCM", NotFinal),
            ("RVMC", NotFinal),
            ("RVNA", NotFinal),
            ("RVNC", NotFinal),
            ("RVNM", NotFinal),
        ];
        assert_eq!(table.len(), PaymentStatus::ALL.len());
        for (code, finality) in table {
            let status: PaymentStatus = code.parse().unwrap();
            assert_eq!(status.code(), code);
            assert_eq!(status.finality(), finality, "{code}");
        }
    }

    #[test]
    fn statuses_have_codes_and_a_meaning() {
        for s in PaymentStatus::ALL {
            assert_eq!(s.code().parse::<PaymentStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.code()));
        }
        assert_eq!(PaymentStatus::ACCC.finality(), Finality::Settled);
        assert_eq!(PaymentStatus::BLCK.finality(), Finality::Refused);
        assert!(!PaymentStatus::PDNG.is_final());
        assert_eq!("ACSC".parse::<PaymentStatus>(), Ok(PaymentStatus::ACSC));
        assert_eq!("ACCZ".parse::<PaymentStatus>(), Err(UnknownStatus("ACCZ".into())), "not in the code set");
        assert_eq!("accc".parse::<PaymentStatus>(), Err(UnknownStatus("accc".into())));
    }
}
