//! Deterministic synthetic lists and names for tests, benches and the latency example.
//! Nothing here is a real listed party: surnames are built from syllables, and the clean
//! names come from a separate pool of common given names and surnames that the list pools
//! do not contain.

#![allow(dead_code)]

use interlink_screening::{EntryId, EntryKind, ListEntry, SanctionsList, Source};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Given names of the kind sanctions lists are heavy in (and so common, low-weight tokens).
pub const LIST_GIVEN: &[&str] = &[
    "Muhammad",
    "Ahmad",
    "Ali",
    "Hassan",
    "Hussein",
    "Abdul",
    "Abdullah",
    "Omar",
    "Yusuf",
    "Ibrahim",
    "Khalid",
    "Mahmoud",
    "Mustafa",
    "Said",
    "Tariq",
    "Walid",
    "Jamal",
    "Karim",
    "Nasser",
    "Rashid",
    "Sami",
    "Faisal",
    "Hamid",
    "Reza",
    "Mehdi",
    "Javad",
    "Dmitri",
    "Sergei",
    "Vladimir",
    "Igor",
    "Oleg",
    "Yuri",
    "Boris",
    "Pavel",
    "Arkady",
    "Anatoly",
    "Gennady",
    "Vyacheslav",
    "Ruslan",
    "Timur",
    "Ramzan",
    "Aslan",
    "Min",
    "Sung",
    "Jong",
    "Chol",
    "Kyong",
    "Myong",
    "Aung",
    "Thein",
    "Kyaw",
    "Soe",
    "Hla",
    "Nicolas",
    "Diosdado",
    "Tareck",
    "Delcy",
    "Evgeny",
    "Alisher",
    "Arkadiy",
    "Viktor",
    "Yevgeny",
    "Ihor",
    "Abu",
    "Bakr",
    "Osama",
    "Ayman",
    "Anwar",
    "Nasrallah",
    "Qassem",
    "Hashem",
];

/// Words of entity names besides the generated ones.
pub const LIST_ENTITY_WORDS: &[&str] = &[
    "Trading",
    "Shipping",
    "Petroleum",
    "Industries",
    "Holding",
    "Group",
    "Bank",
    "Investment",
    "Logistics",
    "Maritime",
    "Engineering",
    "Construction",
    "Aviation",
    "Energy",
    "Chemical",
    "Metals",
    "Export",
    "Import",
];

/// Legal forms appended to entity names.
pub const LEGAL_FORMS: &[&str] = &["LLC", "Ltd", "JSC", "PJSC", "Company", "Co", "FZE", "SA", "GmbH", "Limited"];

/// Syllables of generated surnames and entity words.
const SYLLABLES: &[&str] = &[
    "ka", "ri", "zo", "mu", "ta", "bel", "dar", "shan", "vor", "lek", "ni", "ko", "sa", "tor", "mir", "zad", "ul",
    "ra", "bu", "khan", "gor", "dov", "ev", "ash", "tab", "qar", "zin", "fa", "lo", "nur", "gal", "ib", "sov", "ye",
    "rak", "hos", "yan", "tek", "pol", "ghu",
];

/// Common names of payment parties, none of them in the list pools.
pub const CLEAN_GIVEN: &[&str] = &[
    "John",
    "Mary",
    "James",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Maria",
    "Jose",
    "Juan",
    "Carmen",
    "Luis",
    "Ana",
    "Carlos",
    "Lucia",
    "Wei",
    "Fang",
    "Li",
    "Na",
    "Jing",
    "Lei",
    "Priya",
    "Rahul",
    "Anjali",
    "Amit",
    "Sunita",
    "Hiroshi",
    "Yuki",
    "Kenji",
    "Sakura",
    "Emma",
    "Lukas",
    "Sophie",
    "Jan",
    "Anna",
    "Pierre",
    "Camille",
    "Giulia",
    "Marco",
    "Olga",
    "Nguyen",
    "Thi",
    "Kwame",
    "Amara",
    "Chinedu",
    "Fatou",
    "Siddharth",
];
pub const CLEAN_FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "Wang",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Sharma",
    "Patel",
    "Singh",
    "Gupta",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Dubois",
    "Moreau",
    "Rossi",
    "Russo",
    "Silva",
    "Santos",
    "Pereira",
    "Kowalski",
    "Novak",
    "Tran",
    "Pham",
    "Okafor",
    "Mensah",
    "Diallo",
    "Jensen",
    "Hansen",
    "Nielsen",
    "Andersson",
    "Johansson",
    "Murphy",
];

fn pick<'a>(rng: &mut StdRng, pool: &[&'a str]) -> &'a str {
    pool[rng.random_range(0..pool.len())]
}

/// A generated word of 2 or 3 syllables, capitalised.
fn word(rng: &mut StdRng) -> String {
    let n = rng.random_range(2..=3);
    let w: String = (0..n).map(|_| pick(rng, SYLLABLES)).collect();
    capitalise(&w)
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A transliteration variant of a word: one vowel or digraph swapped, or a letter doubled.
pub fn variant(rng: &mut StdRng, w: &str) -> String {
    const SWAPS: &[(&str, &str)] = &[
        ("u", "o"),
        ("o", "u"),
        ("i", "e"),
        ("e", "i"),
        ("kh", "h"),
        ("y", "i"),
        ("a", "e"),
        ("ou", "u"),
        ("q", "k"),
        ("z", "s"),
        ("v", "w"),
    ];
    let lower = w.to_lowercase();
    for _ in 0..4 {
        let (from, to) = SWAPS[rng.random_range(0..SWAPS.len())];
        if let Some(at) = lower[1..].find(from) {
            let at = at + 1;
            return capitalise(&format!("{}{}{}", &lower[..at], to, &lower[at + from.len()..]));
        }
    }
    // Double a consonant instead.
    let bytes = lower.as_bytes();
    match (1..bytes.len()).find(|&i| !b"aeiou".contains(&bytes[i])) {
        Some(i) => capitalise(&format!("{}{}", &lower[..=i], &lower[i..])),
        None => capitalise(&lower),
    }
}

/// A person's names: primary as OFAC writes it ("LAST, First Middle"), then aliases.
fn person(rng: &mut StdRng) -> Vec<String> {
    let last = word(rng).to_uppercase();
    let first = if rng.random_bool(0.7) { pick(rng, LIST_GIVEN).to_string() } else { word(rng) };
    let middle = if rng.random_bool(0.5) { Some(pick(rng, LIST_GIVEN).to_string()) } else { None };
    let full = |l: &str, f: &str| match &middle {
        Some(m) => format!("{l}, {f} {m}"),
        None => format!("{l}, {f}"),
    };
    let mut names = vec![full(&last, &first)];
    for _ in 0..rng.random_range(0..=3) {
        let alias = match rng.random_range(0..3) {
            0 => full(&variant(rng, &last).to_uppercase(), &first),
            1 => full(&last, &variant(rng, &first)),
            _ => format!("{first} {}", capitalise(&last.to_lowercase())),
        };
        if !names.contains(&alias) {
            names.push(alias);
        }
    }
    names
}

fn entity(rng: &mut StdRng) -> Vec<String> {
    let core = word(rng).to_uppercase();
    let sector = pick(rng, LIST_ENTITY_WORDS).to_uppercase();
    let form = pick(rng, LEGAL_FORMS).to_uppercase();
    let mut names = vec![format!("{core} {sector} {form}")];
    if rng.random_bool(0.5) {
        names.push(format!("{} {sector}", variant(rng, &core).to_uppercase()));
    }
    if rng.random_bool(0.3) {
        names.push(format!("{core} {} {sector}", word(rng).to_uppercase()));
    }
    names
}

/// A list of `n` entries (about 75% persons), with aliases, the same for the same seed.
pub fn list(n: usize, seed: u64) -> SanctionsList {
    let mut rng = StdRng::seed_from_u64(seed);
    let entries = (0..n)
        .map(|i| {
            let is_person = rng.random_bool(0.75);
            let names = if is_person { person(&mut rng) } else { entity(&mut rng) };
            ListEntry {
                id: EntryId { source: Source::Ofac, number: 100_000 + i as u64 },
                source: Source::Ofac,
                kind: if is_person { EntryKind::Person } else { EntryKind::Entity },
                names,
                programs: vec!["SYNTH".to_string()],
            }
        })
        .collect();
    SanctionsList { entries }
}

/// `n` clean names: "Given Family" or "Given Given Family" from the clean pools.
pub fn clean_names(n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let given = pick(&mut rng, CLEAN_GIVEN);
            let family = pick(&mut rng, CLEAN_FAMILY);
            if rng.random_bool(0.2) {
                format!("{given} {} {family}", pick(&mut rng, CLEAN_GIVEN))
            } else {
                format!("{given} {family}")
            }
        })
        .collect()
}

/// `n` names as a payment stream would carry them: mostly clean, one in ten a listed name
/// reordered and respelled (so both the hit and the miss paths are timed).
pub fn payment_names(list: &SanctionsList, n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clean = clean_names(n, seed ^ 0x5eed);
    (0..n)
        .map(|i| {
            if rng.random_bool(0.1) {
                let e = &list.entries[rng.random_range(0..list.entries.len())];
                let name = &e.names[rng.random_range(0..e.names.len())];
                let mut parts: Vec<String> = name.replace(',', "").split(' ').map(str::to_string).collect();
                parts.reverse();
                let k = rng.random_range(0..parts.len());
                parts[k] = variant(&mut rng, &parts[k]);
                parts.join(" ")
            } else {
                clean[i].clone()
            }
        })
        .collect()
}

/// `list` written as OFAC `sdn.csv` and `alt.csv` text, so loading can be timed on the real
/// format.
pub fn to_ofac_csv(list: &SanctionsList) -> (String, String) {
    let mut sdn = String::new();
    let mut alt = String::new();
    let mut alt_num = 1;
    for e in &list.entries {
        let kind = match e.kind {
            EntryKind::Person => "\"individual\"",
            EntryKind::Vessel => "\"vessel\"",
            EntryKind::Aircraft => "\"aircraft\"",
            _ => "-0- ",
        };
        sdn.push_str(&format!(
            "{},\"{}\",{kind},\"{}\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"synthetic.\"\r\n",
            e.id.number,
            e.names[0],
            e.programs.join("] [")
        ));
        for name in &e.names[1..] {
            alt.push_str(&format!("{},{alt_num},\"aka\",\"{name}\",-0- \r\n", e.id.number));
            alt_num += 1;
        }
    }
    (sdn, alt)
}
