//! The connector of a network whose edge is ISO 20022 pacs.008 / pacs.002. Such
//! networks differ only in data (profile, message versions, aliases, limit, alias
//! rules), so one implementation serves them all; each network's folder holds its data.

use super::{pacs002, pacs004, pacs008, versions, IsoProfile};
use crate::account::AccountForm;
use crate::canonical::{Alias, AliasScheme, CanonicalPayment, CanonicalReturn, CanonicalStatus};
use crate::connector::{AmountLimit, Connector, ConnectorError, MessageForm, MessageVersions};
use crate::NetworkProfile;

pub struct IsoConnector {
    pub profile: &'static NetworkProfile,
    pub iso: &'static IsoProfile,
    pub aliases: &'static [AliasScheme],
    pub limit: Option<AmountLimit>,
    pub validate_alias: fn(&Alias) -> Result<(), ConnectorError>,
}

impl Connector for IsoConnector {
    fn profile(&self) -> &'static NetworkProfile {
        self.profile
    }

    fn message_versions(&self) -> MessageVersions {
        versions(self.iso)
    }

    fn alias_schemes(&self) -> &'static [AliasScheme] {
        self.aliases
    }

    fn validate_alias(&self, alias: &Alias) -> Result<(), ConnectorError> {
        (self.validate_alias)(alias)
    }

    fn amount_limit(&self) -> Option<AmountLimit> {
        self.limit
    }

    /// The form the network's own-account rule names, local digits when it has none.
    fn account_form(&self) -> AccountForm {
        self.iso.own_account_rule.map_or(AccountForm::LOCAL_DIGITS, |rule| rule.form)
    }

    fn encode_payment(&self, payment: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError> {
        pacs008::encode(self, self.iso, payment)
    }

    fn decode_payment(&self, message: &[u8]) -> Result<CanonicalPayment, ConnectorError> {
        pacs008::decode(self, self.iso, message)
    }

    fn encode_status(&self, status: &CanonicalStatus) -> Result<Vec<u8>, ConnectorError> {
        pacs002::encode(self.iso, status)
    }

    fn decode_status(&self, message: &[u8]) -> Result<CanonicalStatus, ConnectorError> {
        pacs002::decode(self.iso, message)
    }

    fn carried_payment(&self, payment: &CanonicalPayment) -> CanonicalPayment {
        pacs008::carried_in(self.iso, payment)
    }

    fn carried_status(&self, status: &CanonicalStatus) -> CanonicalStatus {
        pacs002::carried_in(self.iso, status)
    }

    fn encode_return(&self, r: &CanonicalReturn) -> Result<Vec<u8>, ConnectorError> {
        pacs004::encode(self.iso, r)
    }

    fn decode_return(&self, message: &[u8]) -> Result<CanonicalReturn, ConnectorError> {
        pacs004::decode(self.iso, message)
    }

    fn message_form(&self, message: &[u8]) -> Option<MessageForm> {
        let text = crate::connector::admit(message).ok()?;
        let doc = crate::xml::Doc::parse(text).ok()?;
        let iso = self.iso;
        [iso.pacs008_accepted, iso.pacs002_accepted, iso.pacs004_accepted]
            .into_iter()
            .find_map(|accepted| super::open(&doc, iso, accepted).ok().map(|opened| opened.form()))
    }
}
