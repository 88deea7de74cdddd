//! One folder per network: `mod.rs` implements [`Connector`](crate::Connector),
//! `transformers.rs` holds the network's profile, wire usage, alias rules and code mappings,
//! and `ids.rs` (where the network has them) the validators of its own alias formats.

pub mod br_pix;
pub mod cn_ibps;
pub mod eu_sctinst;
pub mod hk_fps;
pub mod id_bifast;
pub mod in_upi;
pub mod my_duitnow;
pub mod sg_paynow;
pub mod th_promptpay;
pub mod us_fednow;
