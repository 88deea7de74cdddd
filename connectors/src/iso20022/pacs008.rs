//! pacs.008 FI-to-FI customer credit transfer (one transaction per message).

use rust_decimal::Decimal;

use super::bah::Party;
use super::{
    check_alias, check_text, close_message, leaf_text, message, open_message, opt_text, read_account, read_agent,
    read_amount, req, req_text, write_account, write_agent, write_amount, write_code, write_one_transaction_settlement,
    Envelope, IsoProfile, MsgDef, SpiRules, MAX140, MAX34, MAX35,
};
use crate::canonical::{Agent, Alias, AliasScheme, CanonicalPayment, Creditor, Debtor, InterbankSettlement, Money};
use crate::connector::{admit, Connector, ConnectorError, Side};
use crate::xml::{Doc, El, XmlWriter};
use crate::{money, time, uuid};

/// The message's root element, inside `Document`.
const ROOT: &str = "FIToFICstmrCdtTrf";

/// Prefix of the FX quote id in `InstrForNxtAgt/InstrInf`.
pub const QUOTE_MARKER: &str = "/FXQT/";
const MAX_QUOTE_ID: usize = MAX140 - QUOTE_MARKER.len();

fn is_code(purpose: &str) -> bool {
    (1..=4).contains(&purpose.len()) && purpose.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn check_amount_shape(path: &str, m: &Money) -> Result<(), ConnectorError> {
    money::exponent(&m.currency)?;
    if m.minor_units <= 0 {
        return Err(ConnectorError::InvalidAmount {
            path: path.to_string(),
            reason: format!("{} is not greater than zero", m.minor_units),
        });
    }
    Ok(())
}

fn check_rate(path: &str, rate: &Decimal) -> Result<(), ConnectorError> {
    // BaseOneRate: at most 11 digits, 10 of them fractional.
    let digits = rate.mantissa().unsigned_abs().to_string().len() as u32;
    if rate.is_sign_negative() || rate.is_zero() {
        return Err(ConnectorError::invalid(path, "must be greater than zero"));
    }
    if rate.scale() > 10 || digits.max(rate.scale() + 1) > 11 {
        return Err(ConnectorError::invalid(path, "more than 11 digits or 10 decimals"));
    }
    Ok(())
}

/// Checks that the agents are known, valid, and that one of them belongs to this network.
fn check_parties(profile: &IsoProfile, debtor: &Debtor, creditor: &Creditor) -> Result<(), ConnectorError> {
    let own = profile.network.id;
    let d = super::agent_network(&debtor.agent, "debtor.agent")?;
    let c = super::agent_network(&creditor.agent, "creditor.agent")?;
    if d.id != own && c.id != own {
        return Err(ConnectorError::UnknownAgent {
            path: "debtor.agent, creditor.agent".into(),
            reason: format!("neither agent is a participant of {own}"),
        });
    }
    if let Some(rule) = profile.own_account_rule {
        if d.id == own {
            (rule.check)(&debtor.account).map_err(|reason| ConnectorError::InvalidAccount {
                side: Side::Debtor,
                path: "debtor.account".into(),
                reason: reason.to_string(),
            })?;
        }
        if c.id == own {
            if let Some(acct) = &creditor.account {
                (rule.check)(acct).map_err(|reason| ConnectorError::InvalidAccount {
                    side: Side::Creditor,
                    path: "creditor.account".into(),
                    reason: reason.to_string(),
                })?;
            }
        }
    }
    if let Some(a) = &debtor.alias {
        check_alias(a, &debtor.agent.network)?;
    }
    if let Some(a) = &creditor.alias {
        check_alias(a, &creditor.agent.network)?;
    }
    if creditor.account.is_none() && creditor.alias.is_none() {
        return Err(ConnectorError::MissingField("creditor.account or creditor.alias".into()));
    }
    if profile.names_required {
        if debtor.name.is_none() {
            return Err(ConnectorError::MissingField("debtor.name".into()));
        }
        if creditor.name.is_none() {
            return Err(ConnectorError::MissingField("creditor.name".into()));
        }
    }
    Ok(())
}

fn check_payment(connector: &dyn Connector, profile: &IsoProfile, p: &CanonicalPayment) -> Result<(), ConnectorError> {
    check_text("message_id", &p.message_id, MAX35)?;
    check_text("transaction_id", &p.transaction_id, MAX35)?;
    check_text("end_to_end_id", &p.end_to_end_id, MAX35)?;
    match &p.uetr {
        Some(u) => uuid::uetr(u).map_err(|e| ConnectorError::invalid("uetr", e))?,
        None if profile.uetr_required => return Err(ConnectorError::MissingField("uetr".into())),
        None => {}
    }
    if !time::in_range(p.created_at) {
        return Err(ConnectorError::invalid("created_at", "outside years 0001-9999"));
    }
    for (path, v) in [("debtor.name", &p.debtor.name), ("creditor.name", &p.creditor.name)] {
        if let Some(v) = v {
            check_text(path, v, MAX140)?;
        }
    }
    check_text("debtor.account", &p.debtor.account, MAX34)?;
    if let Some(a) = &p.creditor.account {
        check_text("creditor.account", a, MAX34)?;
    } else if profile.pacs008.account_id_mandatory() {
        return Err(ConnectorError::invalid(
            "creditor.account",
            format!("{} needs the creditor account: resolve the alias first", profile.pacs008.id()),
        ));
    }
    for (path, a) in [("debtor.alias", &p.debtor.alias), ("creditor.alias", &p.creditor.alias)] {
        if let Some(a) = a {
            check_text(path, &a.value, 2048)?;
        }
    }
    check_amount_shape("instructed_amount", &p.instructed_amount)?;
    if let Some(s) = &p.interbank_settlement {
        check_amount_shape("interbank_settlement.amount", &s.amount)?;
        if let Some(r) = &s.fx_rate {
            check_rate("interbank_settlement.fx_rate", r)?;
        }
        if let Some(q) = &s.quote_id {
            check_text("interbank_settlement.quote_id", q, MAX_QUOTE_ID)?;
        }
    }
    let settled = p.settlement_amount();
    connector.check_amount(settled.minor_units, &settled.currency)?;
    if let Some(purpose) = &p.purpose {
        check_text("purpose", purpose, MAX35)?;
    }
    if let Some(r) = &p.remittance_info {
        check_text("remittance_info", r, MAX140)?;
    }
    check_parties(profile, &p.debtor, &p.creditor)
}

/// Builds the network's pacs.008 for `p`.
pub fn encode(
    connector: &dyn Connector,
    profile: &IsoProfile,
    p: &CanonicalPayment,
) -> Result<Vec<u8>, ConnectorError> {
    check_payment(connector, profile, p)?;
    if let Envelope::Spi(rules) = profile.envelope {
        return encode_spi(profile, rules, p);
    }
    // Written from what the emitted version has room for, so re-encoding is stable.
    let p = &fitted_to_version(profile.pacs008, p);
    let own = profile.network;
    let mut w = XmlWriter::new(3072);
    let (from, to) = (Party::Agent(&p.debtor.agent), Party::Agent(&p.creditor.agent));
    open_message(&mut w, profile, profile.pacs008, ROOT, from, to, &p.message_id, p.created_at)?;
    write_one_transaction_settlement(&mut w, profile);
    w.close("GrpHdr");

    w.open("CdtTrfTxInf");
    w.open("PmtId");
    w.leaf("InstrId", &p.transaction_id);
    w.leaf("EndToEndId", &p.end_to_end_id);
    w.leaf("TxId", &p.transaction_id);
    if let Some(u) = &p.uetr {
        w.leaf("UETR", u);
    }
    w.close("PmtId");
    let local_instrument = (profile.local_instrument)(p);
    if profile.service_level.is_some() || local_instrument.is_some() {
        w.open("PmtTpInf");
        if let Some(sl) = profile.service_level {
            w.open("SvcLvl");
            w.leaf("Cd", sl);
            w.close("SvcLvl");
        }
        if let Some(li) = local_instrument {
            w.open("LclInstrm");
            write_code(&mut w, li);
            w.close("LclInstrm");
        }
        w.close("PmtTpInf");
    }
    write_amount(&mut w, "IntrBkSttlmAmt", p.settlement_amount())?;
    w.leaf_with("IntrBkSttlmDt", None, |out| {
        time::write_local_date(out, p.created_at, profile.utc_offset_minutes);
        Ok(())
    })?;
    // A settlement leg equal to the instructed amount, without rate or quote, says nothing.
    let fx = p
        .interbank_settlement
        .as_ref()
        .filter(|s| s.amount != p.instructed_amount || s.fx_rate.is_some() || s.quote_id.is_some());
    if let Some(s) = fx {
        write_amount(&mut w, "InstdAmt", &p.instructed_amount)?;
        if let Some(rate) = &s.fx_rate {
            w.leaf("XchgRate", &rate.to_string());
        }
    }
    w.leaf("ChrgBr", "SLEV");
    write_agent(&mut w, "InstgAgt", &p.debtor.agent, own, "debtor.agent")?;
    write_agent(&mut w, "InstdAgt", &p.creditor.agent, own, "creditor.agent")?;
    w.open("Dbtr");
    if let Some(n) = &p.debtor.name {
        w.leaf("Nm", n);
    }
    if let Some(id) = &p.debtor.identification {
        write_person_id(&mut w, id);
    }
    w.close("Dbtr");
    write_account(&mut w, "DbtrAcct", Some(&p.debtor.account), p.debtor.alias.as_ref());
    write_agent(&mut w, "DbtrAgt", &p.debtor.agent, own, "debtor.agent")?;
    write_agent(&mut w, "CdtrAgt", &p.creditor.agent, own, "creditor.agent")?;
    w.open("Cdtr");
    if let Some(n) = &p.creditor.name {
        w.leaf("Nm", n);
    }
    w.close("Cdtr");
    write_account(&mut w, "CdtrAcct", p.creditor.account.as_deref(), p.creditor.alias.as_ref());
    if let Some(q) = fx.and_then(|s| s.quote_id.as_ref()) {
        w.open("InstrForNxtAgt");
        w.leaf("InstrInf", &format!("{QUOTE_MARKER}{q}"));
        w.close("InstrForNxtAgt");
    }
    write_purpose_and_remittance(&mut w, p);
    w.close("CdtTrfTxInf");
    Ok(close_message(w, profile, profile.pacs008, ROOT))
}

/// `Purp` (a code, or proprietary text) and unstructured `RmtInf`, when the payment has them.
fn write_purpose_and_remittance(w: &mut XmlWriter, p: &CanonicalPayment) {
    if let Some(purpose) = &p.purpose {
        w.open("Purp");
        if is_code(purpose) {
            w.leaf("Cd", purpose);
        } else {
            w.leaf("Prtry", purpose);
        }
        w.close("Purp");
    }
    if let Some(r) = &p.remittance_info {
        w.open("RmtInf");
        w.leaf("Ustrd", r);
        w.close("RmtInf");
    }
}

/// `Id/PrvtId/Othr` of a private person: `Id`, then `SchmeNm/Cd` and `Issr`.
fn write_person_id(w: &mut XmlWriter, id: &crate::canonical::PersonIdentification) {
    w.open("Id");
    w.open("PrvtId");
    w.open("Othr");
    w.leaf("Id", &id.id);
    if let Some(scheme) = &id.scheme {
        w.open("SchmeNm");
        w.leaf("Cd", scheme);
        w.close("SchmeNm");
    }
    if let Some(issuer) = &id.issuer {
        w.leaf("Issr", issuer);
    }
    w.close("Othr");
    w.close("PrvtId");
    w.close("Id");
}

/// A private person's `Id/PrvtId/Othr`, if the party has one.
fn read_person_id(party: El<'_, '_>) -> Result<Option<crate::canonical::PersonIdentification>, ConnectorError> {
    let Some(othr) = party.child("Id").and_then(|i| i.child("PrvtId")).and_then(|i| i.child("Othr")) else {
        return Ok(None);
    };
    let id = leaf_text(req(othr, "Id")?, MAX35)?.to_string();
    let scheme = match othr.child("SchmeNm").and_then(|s| s.child("Cd")) {
        Some(el) => Some(leaf_text(el, 4)?.to_string()),
        None => None,
    };
    let issuer = match othr.child("Issr") {
        Some(el) => Some(leaf_text(el, MAX35)?.to_string()),
        None => None,
    };
    Ok(Some(crate::canonical::PersonIdentification { id, scheme, issuer }))
}

/// A debtor or creditor identified by CPF or CNPJ, the SPI's party id.
fn tax_id(alias: Option<&Alias>) -> Option<&Alias> {
    alias.filter(|a| matches!(a.scheme, AliasScheme::Cpf | AliasScheme::Cnpj))
}

/// Writes `<Id><PrvtId><Othr><Id>` as the SPI catalogue's examples do for CPFs and CNPJs.
fn write_party_id(w: &mut XmlWriter, id: &str) {
    w.open("Id");
    w.open("PrvtId");
    w.open("Othr");
    w.leaf("Id", id);
    w.close("Othr");
    w.close("PrvtId");
    w.close("Id");
}

fn write_spi_account(w: &mut XmlWriter, tag: &str, account: &str, key: Option<&Alias>) {
    w.open(tag);
    w.open("Id");
    w.open("Othr");
    w.leaf("Id", account);
    w.close("Othr");
    w.close("Id");
    w.open("Tp");
    w.leaf("Cd", "CACC");
    w.close("Tp");
    if let Some(key) = key {
        // Pix keys carry no type: the SPI knows it from the key's form.
        w.open("Prxy");
        w.leaf("Id", &key.value);
        w.close("Prxy");
    }
    w.close(tag);
}

/// The pacs.008 of the BCB's SPI catalogue: payment type in the group header (`HIGH`,
/// `PAGPRI`), the local instrument under `MndtRltdInf`, `AccptncDtTm` for the settlement
/// date, parties by CPF/CNPJ, no creditor name, no UETR and no FX fields.
fn encode_spi(profile: &IsoProfile, _rules: &SpiRules, p: &CanonicalPayment) -> Result<Vec<u8>, ConnectorError> {
    let own = profile.network;
    let p = &carried_spi(p);
    let account = p.creditor.account.as_deref().ok_or_else(|| {
        ConnectorError::invalid("creditor.account", "the SPI needs the creditor account: resolve the Pix key first")
    })?;
    let mut w = XmlWriter::new(3072);
    let (from, to) = (Party::Agent(&p.debtor.agent), Party::Agent(&p.creditor.agent));
    open_message(&mut w, profile, profile.pacs008, ROOT, from, to, &p.message_id, p.created_at)?;
    w.leaf("NbOfTxs", "1");
    w.open("SttlmInf");
    w.leaf("SttlmMtd", profile.settlement_method);
    w.close("SttlmInf");
    w.open("PmtTpInf");
    w.leaf("InstrPrty", "HIGH");
    w.open("SvcLvl");
    w.leaf("Prtry", "PAGPRI");
    w.close("SvcLvl");
    w.close("PmtTpInf");
    w.close("GrpHdr");
    w.open("CdtTrfTxInf");
    w.open("PmtId");
    w.leaf("EndToEndId", &p.end_to_end_id);
    // Interlink's transaction id rides in TxId (the catalogue's reconciliation id).
    w.leaf("TxId", &p.transaction_id);
    w.close("PmtId");
    write_amount(&mut w, "IntrBkSttlmAmt", p.settlement_amount())?;
    w.leaf_with("AccptncDtTm", None, |out| {
        time::write_datetime(out, p.created_at, 0);
        Ok(())
    })?;
    w.leaf("ChrgBr", "SLEV");
    if let Some(li) = (profile.local_instrument)(p) {
        w.open("MndtRltdInf");
        w.open("Tp");
        w.open("LclInstrm");
        write_code(&mut w, li);
        w.close("LclInstrm");
        w.close("Tp");
        w.close("MndtRltdInf");
    }
    w.open("Dbtr");
    if let Some(n) = &p.debtor.name {
        w.leaf("Nm", n);
    }
    if let Some(id) = tax_id(p.debtor.alias.as_ref()) {
        write_party_id(&mut w, &id.value);
    }
    w.close("Dbtr");
    write_spi_account(&mut w, "DbtrAcct", &p.debtor.account, None);
    write_agent(&mut w, "DbtrAgt", &p.debtor.agent, own, "debtor.agent")?;
    write_agent(&mut w, "CdtrAgt", &p.creditor.agent, own, "creditor.agent")?;
    w.open("Cdtr");
    if let Some(id) = tax_id(p.creditor.alias.as_ref()) {
        write_party_id(&mut w, &id.value);
    }
    w.close("Cdtr");
    write_spi_account(&mut w, "CdtrAcct", account, p.creditor.alias.as_ref());
    write_purpose_and_remittance(&mut w, p);
    w.close("CdtTrfTxInf");
    Ok(close_message(w, profile, profile.pacs008, ROOT))
}

/// What the SPI catalogue's pacs.008 carries: no UETR, no FX leg (the BRL amount is the
/// payment), no creditor name, a debtor alias only when it is the debtor's CPF or CNPJ.
fn carried_spi(p: &CanonicalPayment) -> CanonicalPayment {
    let mut out = p.clone();
    out.uetr = None;
    out.instructed_amount = p.settlement_amount().clone();
    out.interbank_settlement = None;
    out.creditor.name = None;
    out.debtor.alias = tax_id(p.debtor.alias.as_ref()).cloned();
    // The SPI's party id is the CPF or CNPJ (the alias), not an identity document.
    out.debtor.identification = None;
    out
}

fn party_name(parent: El<'_, '_>, tag: &str, required: bool) -> Result<Option<String>, ConnectorError> {
    let party = req(parent, tag)?;
    let name = opt_text(party, "Nm", MAX140)?.map(str::to_string);
    if required && name.is_none() {
        return Err(ConnectorError::MissingField(format!("{}/Nm", party.path())));
    }
    Ok(name)
}

/// Reads a pacs.008 the network sent.
pub fn decode(
    connector: &dyn Connector,
    profile: &IsoProfile,
    bytes: &[u8],
) -> Result<CanonicalPayment, ConnectorError> {
    let text = admit(bytes)?;
    let doc = Doc::parse(text)?;
    let opened = super::open(&doc, profile, profile.pacs008_accepted)?;
    let msg = message(opened.document, ROOT)?;
    let grp = req(msg, "GrpHdr")?;
    let message_id = req_text(grp, "MsgId", MAX35)?.to_string();
    let created = req(grp, "CreDtTm")?;
    let created_at =
        time::parse_datetime(leaf_text(created, 64)?).map_err(|e| ConnectorError::invalid(created.path(), e))?;
    let nb = req(grp, "NbOfTxs")?;
    if leaf_text(nb, 15)? != "1" {
        return Err(ConnectorError::UnsupportedMessage(format!(
            "{} transactions in one message; Interlink takes one per message",
            nb.text()
        )));
    }
    match msg.count("CdtTrfTxInf") {
        1 => {}
        0 => return Err(ConnectorError::MissingField(format!("{}/CdtTrfTxInf", msg.path()))),
        n => {
            return Err(ConnectorError::UnsupportedMessage(format!("{n} CdtTrfTxInf; Interlink takes one per message")))
        }
    }
    let tx = req(msg, "CdtTrfTxInf")?;
    let pmt_id = req(tx, "PmtId")?;
    let end_to_end_id = req_text(pmt_id, "EndToEndId", MAX35)?.to_string();
    let spi = match profile.envelope {
        Envelope::Spi(rules) => Some(rules),
        Envelope::Iso | Envelope::FedNow | Envelope::Fps => None,
    };
    let transaction_id = match (opt_text(pmt_id, "TxId", MAX35)?, opt_text(pmt_id, "InstrId", MAX35)?) {
        (Some(t), _) | (None, Some(t)) => t.to_string(),
        // The SPI names a Pix by its end-to-end id alone.
        (None, None) if spi.is_some() => end_to_end_id.clone(),
        (None, None) => return Err(ConnectorError::MissingField(format!("{}/TxId", pmt_id.path()))),
    };
    let uetr = opt_text(pmt_id, "UETR", 36)?.map(str::to_string);
    if let Some(u) = &uetr {
        uuid::uetr(u).map_err(|e| ConnectorError::invalid(pmt_id.path() + "/UETR", e))?;
    } else if profile.uetr_required {
        return Err(ConnectorError::MissingField(format!("{}/UETR", pmt_id.path())));
    }

    let settled = read_amount(req(tx, "IntrBkSttlmAmt")?)?;
    connector.check_amount(settled.minor_units, &settled.currency)?;
    let instructed = tx.child("InstdAmt").map(read_amount).transpose()?;
    let fx_rate = match tx.child("XchgRate") {
        Some(el) => {
            let r: Decimal =
                leaf_text(el, 40)?.parse().map_err(|_| ConnectorError::invalid(el.path(), "not a decimal"))?;
            check_rate("", &r).map_err(|e| match e {
                ConnectorError::InvalidField { reason, .. } => ConnectorError::invalid(el.path(), reason),
                other => other,
            })?;
            Some(r)
        }
        None => None,
    };
    let quote_id = match tx.child("InstrForNxtAgt") {
        Some(i) => opt_text(i, "InstrInf", MAX140)?
            .and_then(|t| t.strip_prefix(QUOTE_MARKER))
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string),
        None => None,
    };
    let (instructed_amount, interbank_settlement) = match instructed {
        Some(instd) if instd != settled || fx_rate.is_some() || quote_id.is_some() => {
            (instd, Some(InterbankSettlement { amount: settled, fx_rate, quote_id }))
        }
        Some(instd) => (instd, None),
        None if fx_rate.is_some() || quote_id.is_some() => {
            (settled.clone(), Some(InterbankSettlement { amount: settled, fx_rate, quote_id }))
        }
        None => (settled, None),
    };

    let own = profile.network;
    let debtor_name = party_name(tx, "Dbtr", profile.names_required)?;
    let (debtor_account, mut debtor_alias) = read_account(req(tx, "DbtrAcct")?, Side::Debtor)?;
    if spi.is_some() {
        // The SPI identifies the payer by CPF or CNPJ, carried as the debtor's alias.
        debtor_alias = read_party_tax_id(req(tx, "Dbtr")?)?.or(debtor_alias);
    }
    let debtor_account =
        debtor_account.ok_or_else(|| ConnectorError::MissingField(format!("{}/DbtrAcct/Id", tx.path())))?;
    let debtor_agent: Agent = read_agent(req(tx, "DbtrAgt")?, own)?;
    let creditor_agent: Agent = read_agent(req(tx, "CdtrAgt")?, own)?;
    let creditor_name = party_name(tx, "Cdtr", profile.names_required)?;
    if spi.is_some() {
        // Read for its check only: the canonical creditor is named by the Pix key.
        read_party_tax_id(req(tx, "Cdtr")?)?;
    }
    let (creditor_account, creditor_alias) = match tx.child("CdtrAcct") {
        Some(acct) => {
            let (a, p) = match spi {
                Some(rules) => read_spi_account(acct, rules)?,
                None => read_account(acct, Side::Creditor)?,
            };
            if a.is_none() && opened.version.account_id_mandatory() {
                return Err(ConnectorError::MissingField(format!("{}/Id", acct.path())));
            }
            (a, p)
        }
        None => return Err(ConnectorError::MissingField(format!("{}/CdtrAcct", tx.path()))),
    };
    let purpose = match tx.child("Purp") {
        Some(p) => Some(match p.child("Cd") {
            Some(cd) => leaf_text(cd, 4)?.to_string(),
            None => req_text(p, "Prtry", MAX35)?.to_string(),
        }),
        None => None,
    };
    let remittance_info = match tx.child("RmtInf") {
        Some(r) => opt_text(r, "Ustrd", MAX140)?.map(str::to_string),
        None => None,
    };

    let identification = if spi.is_some() { None } else { read_person_id(req(tx, "Dbtr")?)? };
    let debtor =
        Debtor { name: debtor_name, account: debtor_account, alias: debtor_alias, agent: debtor_agent, identification };
    let creditor =
        Creditor { name: creditor_name, account: creditor_account, alias: creditor_alias, agent: creditor_agent };
    check_parties(profile, &debtor, &creditor)?;
    Ok(CanonicalPayment {
        message_id,
        transaction_id,
        end_to_end_id,
        uetr,
        created_at,
        instructed_amount,
        interbank_settlement,
        debtor,
        creditor,
        purpose,
        remittance_info,
    })
}

/// `Dbtr/Id` or `Cdtr/Id` of an SPI message: a CPF (11 digits) or CNPJ (14 characters),
/// under `PrvtId` or `OrgId`, checked with its check digits.
fn read_party_tax_id(party: El<'_, '_>) -> Result<Option<Alias>, ConnectorError> {
    let Some(id) = party.child("Id") else { return Ok(None) };
    let Some(othr) = id.child("PrvtId").or_else(|| id.child("OrgId")).and_then(|i| i.child("Othr")) else {
        return Ok(None);
    };
    let el = req(othr, "Id")?;
    let value = leaf_text(el, MAX35)?;
    let scheme = if value.len() == 11 { AliasScheme::Cpf } else { AliasScheme::Cnpj };
    let alias = Alias::new(scheme, value);
    super::check_alias(&alias, "BR_PIX").map_err(|e| ConnectorError::invalid(el.path(), e.to_string()))?;
    Ok(Some(alias))
}

/// An SPI account: `Id/Othr/Id` and a Pix key in `Prxy/Id` without a type.
fn read_spi_account(el: El<'_, '_>, rules: &SpiRules) -> Result<(Option<String>, Option<Alias>), ConnectorError> {
    let typed = el.child("Prxy").is_some_and(|p| p.child("Tp").is_some());
    if typed || el.child("Prxy").is_none() {
        return read_account(el, Side::Creditor);
    }
    let (account, _) = read_account_id_only(el)?;
    let prxy = req(el, "Prxy")?;
    let key_el = req(prxy, "Id")?;
    let key = leaf_text(key_el, 77)?;
    let scheme = (rules.key_scheme)(key)
        .ok_or_else(|| ConnectorError::invalid(key_el.path(), format!("{key:?} is not a Pix key")))?;
    Ok((account, Some(Alias::new(scheme, key))))
}

fn read_account_id_only(el: El<'_, '_>) -> Result<(Option<String>, Option<Alias>), ConnectorError> {
    match el.child("Id") {
        None => Ok((None, None)),
        Some(id) => Ok((Some(req_text(req(id, "Othr")?, "Id", MAX34)?.to_string()), None)),
    }
}

/// What survives a pacs.008 round trip under `profile`.
pub fn carried_in(profile: &IsoProfile, p: &CanonicalPayment) -> CanonicalPayment {
    match profile.envelope {
        Envelope::Spi(_) => carried_spi(p),
        Envelope::Iso | Envelope::FedNow | Envelope::Fps => carried(&fitted_to_version(profile.pacs008, p)),
    }
}

/// What a version of pacs.008 has room for: pacs.008.001.06 has no UETR and its accounts
/// (CashAccount24) no proxy, so neither travels in it.
fn fitted_to_version(def: MsgDef, p: &CanonicalPayment) -> CanonicalPayment {
    let mut out = p.clone();
    if !def.carries_uetr() {
        out.uetr = None;
    }
    if !def.carries_proxy() {
        out.debtor.alias = None;
        out.creditor.alias = None;
    }
    out
}

/// What survives a pacs.008 round trip: a settlement leg identical to the instructed amount
/// with no rate and no quote is not distinguishable from none.
pub fn carried(p: &CanonicalPayment) -> CanonicalPayment {
    let mut out = p.clone();
    if let Some(s) = &p.interbank_settlement {
        if s.amount == p.instructed_amount && s.fx_rate.is_none() && s.quote_id.is_none() {
            out.interbank_settlement = None;
        }
    }
    out
}
