//! From a name as written to the tokens the matcher compares.
//!
//! Lists and payments spell the same person in different scripts and conventions, so both
//! sides go through the same steps: transliterate to ASCII (deunicode: Cyrillic, Greek,
//! Arabic, CJK, and diacritics such as "José" → "Jose"), lowercase, drop apostrophes
//! ("O'Neil" → "oneil"), split on everything else that is not a letter or digit (commas of
//! "LAST, First", hyphens of "Al-Zahir"), drop single letters, honorifics ("Mr", "Dr") and
//! fillers ("of", "and"), which say nothing about who someone is, and shorten legal forms
//! ("Company" → "co").

/// Titles and suffixes dropped from names before matching.
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "mme", "mlle", "herr", "frau", "jr", "sr",
    "snr", "jnr", "esq",
];

/// The tokens of `name`, in order.
pub fn tokens(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode(name);
    let mut out = Vec::new();
    let mut token = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            token.push(c.to_ascii_lowercase());
        } else if c == '\'' || c == '`' {
            continue;
        } else if !token.is_empty() {
            keep(&mut out, std::mem::take(&mut token));
        }
    }
    if !token.is_empty() {
        keep(&mut out, token);
    }
    out
}

/// Words that join a name's parts without identifying anyone.
const FILLERS: &[&str] = &["the", "and", "of", "und", "et"];

/// Long and short spellings of legal forms, mapped to the short one: "Company" and "Co."
/// are the same name.
const LEGAL_FORMS: &[(&str, &str)] = &[
    ("company", "co"),
    ("limited", "ltd"),
    ("corporation", "corp"),
    ("incorporated", "inc"),
    ("international", "intl"),
    ("establishment", "est"),
];

fn keep(out: &mut Vec<String>, token: String) {
    if token.len() < 2 || HONORIFICS.contains(&token.as_str()) || FILLERS.contains(&token.as_str()) {
        return;
    }
    match LEGAL_FORMS.iter().find(|(long, _)| *long == token) {
        Some((_, short)) => out.push(short.to_string()),
        None => out.push(token),
    }
}

/// Tokens that come and go between spellings of one name: particles of Arabic, Romance,
/// Germanic and Dutch names ("Al-Tarkazi"/"Tarkazi") and legal forms ("Zorinek Trading
/// LLC"/"Zorinek Trading"). One the other name lacks is not held against it; one both have
/// counts like any token.
pub fn is_optional(token: &str) -> bool {
    const OPTIONAL: &[&str] = &[
        "al", "el", "ul", "bin", "ibn", "bint", "de", "da", "di", "del", "della", "dos", "das", "du", "la", "le",
        "van", "von", "der", "den", "ter", "co", "ltd", "corp", "inc", "intl", "est", "llc", "llp", "lp", "plc", "jsc",
        "pjsc", "ojsc", "cjsc", "ooo", "zao", "oao", "pao", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa",
        "bv", "nv", "ab", "as", "oy", "fze", "fzco", "fzc", "pte", "pvt", "sdn", "bhd",
    ];
    OPTIONAL.contains(&token)
}

/// A spelling-insensitive form of a token, compared besides the token itself: common
/// transliteration alternatives are folded together ("ph"/"f", "kh"/"h", "th"/"t", "zh"/"dzh"/"j",
/// "ou"/"u", o/u, e/i, y/i, c/q/k, z/s, w/v) and doubled letters collapsed, so "Mohammed", "Muhammad" and
/// "Mohamed" all fold to "muhamid"/"muhamad" and score high with Jaro–Winkler.
pub fn fold(token: &str) -> String {
    let b = token.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (mapped, step) = match (c, next) {
            (b'd', Some(b'z')) if b.get(i + 2) == Some(&b'h') => (b'j', 3),
            (b'z', Some(b'h')) => (b'j', 2),
            (b'p', Some(b'h')) => (b'f', 2),
            // Russian renders Arabic "h" (ح) as "kh": Ахмед → "Akhmed".
            (b'k', Some(b'h')) => (b'h', 2),
            (b'g' | b't' | b'd' | b'b', Some(b'h')) => (c, 2),
            (b'o' | b'u', Some(b'u' | b'o')) => (b'u', 2),
            (b'e' | b'i', Some(b'e' | b'i' | b'y')) => (b'i', 2),
            (b'o', _) => (b'u', 1),
            (b'e' | b'y', _) => (b'i', 1),
            (b'c' | b'q', _) => (b'k', 1),
            (b'z', _) => (b's', 1),
            (b'w', _) => (b'v', 1),
            _ => (c, 1),
        };
        if out.as_bytes().last() != Some(&mapped) {
            out.push(char::from(mapped));
        }
        i += step;
    }
    out
}

/// The consonant skeleton of a folded token: its first letter (any vowel as "a") and its
/// consonants. Tokens with the same skeleton, or one deletion apart, are the candidates a
/// query token is compared with; vowels vary most between transliterations, so they are
/// left out of the key.
pub fn skeleton(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for (i, c) in folded.chars().enumerate() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        let c = match (i, vowel) {
            (0, true) => 'a',
            (_, true) => continue,
            _ => c,
        };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The blocking skeleton of a token: [`skeleton`] of its fold, except for unvocalised
/// tokens, where "w" and "y" stand for the long vowels u and i (Arabic و and ي), so
/// "ywsf" gets the skeleton of "yusuf".
pub fn key_skeleton(token: &str, folded: &str) -> String {
    if is_unvocalised(token) {
        skeleton(&fold(&token.replace('w', "u")))
    } else {
        skeleton(folded)
    }
}

/// Whether a token looks like a transliteration from a script that does not write short
/// vowels (Arabic, Hebrew, Persian): deunicode turns "محمد" into "mhmd". Such tokens are
/// compared by skeleton, since Jaro–Winkler sees "mhmd" and "muhammad" as far apart.
pub fn is_unvocalised(token: &str) -> bool {
    token.len() >= 3 && !token.bytes().any(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_ascii_lowercase_and_ordered() {
        assert_eq!(tokens("ZAHIR, Kamal Ahmad"), ["zahir", "kamal", "ahmad"]);
        assert_eq!(tokens("Mr. José Núñez-O'Brien Jr."), ["jose", "nunez", "obrien"]);
        assert_eq!(tokens("Владимир Путин"), ["vladimir", "putin"]);
        assert_eq!(tokens("J. K. Rowling"), ["rowling"]);
        assert_eq!(tokens("Straße"), ["strasse"]);
        assert!(tokens(" ,;- ").is_empty());
        assert_eq!(tokens("The Bank of Zorinek Company Limited"), ["bank", "zorinek", "co", "ltd"]);
    }

    #[test]
    fn spelling_variants_fold_close() {
        assert_eq!(fold("mohammed"), "muhamid");
        assert_eq!(fold("muhammad"), "muhamad");
        assert_eq!(fold("mohamed"), "muhamid");
        assert_eq!(fold("hussein"), fold("husein"));
        assert_eq!(fold("philip"), "filip");
        assert_eq!(fold("khaled"), "halid");
        assert_eq!(fold("mukhammed"), fold("mohammed"));
    }

    #[test]
    fn skeletons_ignore_vowels() {
        assert_eq!(skeleton(&fold("muhammad")), "mhmd");
        assert_eq!(skeleton(&fold("mhmd")), "mhmd");
        assert_eq!(skeleton(&fold("usama")), skeleton(&fold("osama")));
        assert_eq!(skeleton(&fold("hsyn")), skeleton(&fold("hussein")));
        assert!(is_unvocalised("mhmd"));
        assert_eq!(key_skeleton("ywsf", &fold("ywsf")), key_skeleton("yusuf", &fold("yusuf")));
        assert_eq!(key_skeleton("njry", &fold("njry")), key_skeleton("najjari", &fold("najjari")));
        assert_eq!(fold("nadzhari"), fold("najjari"));
        assert!(!is_unvocalised("ahmed"));
    }
}
