//! The matcher: an index over a loaded list and the scoring of one name against it.

use std::fmt;
use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

use crate::error::ConfigError;
use crate::list::{EntryId, EntryKind, SanctionsList};
use crate::normalize::{fold, is_optional, is_unvocalised, key_skeleton, tokens};

/// Longest name, in tokens, that is matched in full. Payment name fields are at most 140
/// characters, so this only bounds the work a hostile input can cause.
pub const MAX_TOKENS: usize = 24;

/// How much an unmatched token counts against a name, relative to a matched one. Below 1
/// because lists and payments often differ by a middle name, patronymic or legal form;
/// above 0 because a name that explains only part of the other is weaker evidence.
pub const UNMATCHED_WEIGHT: f64 = 0.3;

/// Similarity of two tokens with the same fold: a known transliteration difference.
const FOLD_SIMILARITY: f64 = 0.97;

/// Similarity of two tokens with the same consonant skeleton whose folds are close: the
/// vowels differ, as they do between transliterations ("Mohamed"/"Muhammad").
const CONSONANT_SIMILARITY: f64 = 0.93;

/// Similarity given to an unvocalised token ("mhmd") whose consonant skeleton equals the
/// other token's: strong, but below an exact match because the vowels are unknown
/// ("mhmd" could be Muhammad or Mahmud).
const SKELETON_SIMILARITY: f64 = 0.9;

/// Tuning of a [`Screener`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// A name scoring at least this (0..=1) is a hit.
    pub threshold: f64,
    /// Two tokens scoring at least this (0..=1) are paired; below it they do not count.
    pub token_threshold: f64,
    /// At most this many hits (one per entry, best first) are returned.
    pub max_hits: usize,
}

impl Default for Config {
    /// Threshold 0.85, token threshold 0.88: on the synthetic 20,000-entry list these flag 2
    /// of 10,000 clean names and miss 3 of 1,000 respelled listed names (docs/screening.md
    /// has the grid they were chosen from).
    fn default() -> Self {
        Config { threshold: 0.85, token_threshold: 0.88, max_hits: 10 }
    }
}

impl Config {
    /// Checks that the thresholds lie in 0..=1 and `max_hits` is at least 1.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [("threshold", self.threshold), ("token_threshold", self.token_threshold)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::OutOfRange { name, value });
            }
        }
        if self.max_hits == 0 {
            return Err(ConfigError::NoHits);
        }
        Ok(())
    }
}

/// Two tokens paired by the matcher, for the explanation of a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPair {
    /// The token of the screened name.
    pub query: String,
    /// The token of the listed name it was paired with.
    pub listed: String,
    /// Their similarity, 0..=1.
    pub similarity: f64,
    /// The listed token's weight (rarer tokens weigh more).
    pub weight: f64,
}

/// A listed name the screened name matched, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entry_id: EntryId,
    pub kind: EntryKind,
    /// The listed name (primary name or alias) that matched best, as the list writes it.
    pub matched_name: String,
    /// 0..=1; at least the threshold.
    pub score: f64,
    /// The threshold the score was compared with.
    pub threshold: f64,
    /// Paired tokens, best first.
    pub token_pairs: Vec<TokenPair>,
    /// Tokens of the screened name that no listed token matched.
    pub unmatched_query: Vec<String>,
    /// Tokens of the listed name that no screened token matched.
    pub unmatched_listed: Vec<String>,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}) matched as \"{}\": score {:.2} (threshold {:.2})",
            self.entry_id, self.kind, self.matched_name, self.score, self.threshold
        )?;
        for p in &self.token_pairs {
            let how = if p.similarity >= 1.0 { "same" } else { "similar" };
            writeln!(f, "  \"{}\" ~ \"{}\": {how}, {:.2} (weight {:.1})", p.query, p.listed, p.similarity, p.weight)?;
        }
        if !self.unmatched_listed.is_empty() {
            writeln!(f, "  listed but not in the screened name: {}", self.unmatched_listed.join(", "))?;
        }
        if !self.unmatched_query.is_empty() {
            writeln!(f, "  screened but not in the listed name: {}", self.unmatched_query.join(", "))?;
        }
        Ok(())
    }
}

/// A distinct token of the list.
struct Token {
    text: Box<str>,
    folded: Box<str>,
    skeleton: Box<str>,
    optional: bool,
    /// ln(1 + names / names containing the token).
    weight: f64,
    /// Names containing the token.
    postings: Vec<u32>,
    /// The subset of `postings` whose name is this one token.
    singles: Vec<u32>,
}

/// What the similarity tiers look at first, kept apart from [`Token`] in one contiguous
/// array: a query token is compared with dozens of list tokens, and most comparisons end
/// here without touching the tokens' text.
#[derive(Clone, Copy)]
struct Shape {
    folded_hash: u64,
    skeleton_hash: u64,
    len: u8,
    unvocalised: bool,
    /// How often each letter a–z occurs (digits and the rest in slot 26), saturating.
    letters: [u8; 27],
}

impl Shape {
    fn of(text: &str, folded: &str, skeleton: &str) -> Shape {
        let mut letters = [0u8; 27];
        for b in text.bytes() {
            let slot = if b.is_ascii_lowercase() { usize::from(b - b'a') } else { 26 };
            letters[slot] = letters[slot].saturating_add(1);
        }
        Shape {
            folded_hash: hash(folded.as_bytes()),
            skeleton_hash: hash(skeleton.as_bytes()),
            len: text.len().min(255) as u8,
            unvocalised: is_unvocalised(text),
            letters,
        }
    }

    /// An upper bound of the Jaro–Winkler similarity of the two texts: at most as many
    /// characters match as the texts have in common, with no transpositions, and the prefix
    /// bonus adds at most 0.4 of what is left.
    fn jaro_winkler_bound(&self, other: &Shape) -> f64 {
        let common: u32 = self.letters.iter().zip(&other.letters).map(|(a, b)| u32::from(*a.min(b))).sum();
        if self.len == 0 || other.len == 0 {
            return 0.0;
        }
        let m = f64::from(common);
        let jaro = (m / f64::from(self.len) + m / f64::from(other.len) + 1.0) / 3.0;
        jaro + 0.4 * (1.0 - jaro)
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// A listed name.
struct Name {
    entry: u32,
    text: Box<str>,
    tokens: Box<[u32]>,
}

struct Entry {
    id: EntryId,
    kind: EntryKind,
}

/// A query token and the list tokens it is similar to.
struct QueryToken {
    text: String,
    folded: String,
    skeleton: String,
    shape: Shape,
    /// Weight if unmatched: its own weight when the list has it, else the mean weight.
    weight: f64,
    matches: Vec<(u32, f64)>,
}

/// An index over a [`SanctionsList`] that screens names against it.
///
/// Built once per list publication; screening borrows it immutably, so one screener can
/// serve many threads.
pub struct Screener {
    config: Config,
    entries: Vec<Entry>,
    names: Vec<Name>,
    tokens: Vec<Token>,
    shapes: Vec<Shape>,
    vocab: FxHashMap<Box<str>, u32>,
    /// Blocking keys (hash of a skeleton, or of a skeleton with one letter deleted) to the
    /// tokens having them.
    blocks: FxHashMap<u64, Vec<u32>>,
    mean_weight: f64,
    /// Recent names' best hits (see [`Screener::remembering`]).
    recent: Option<quick_cache::sync::Cache<Box<str>, Option<Hit>>>,
}

impl Screener {
    /// Indexes `list` with the default [`Config`].
    pub fn new(list: &SanctionsList) -> Screener {
        Self::build(list, Config::default())
    }

    /// Indexes `list` with `config`, refused if out of range.
    pub fn with_config(list: &SanctionsList, config: Config) -> Result<Screener, ConfigError> {
        config.validate()?;
        Ok(Self::build(list, config))
    }

    fn build(list: &SanctionsList, config: Config) -> Screener {
        let mut s = Screener {
            config,
            entries: Vec::with_capacity(list.entries.len()),
            names: Vec::new(),
            tokens: Vec::new(),
            shapes: Vec::new(),
            vocab: FxHashMap::default(),
            blocks: FxHashMap::default(),
            mean_weight: 1.0,
            recent: None,
        };
        for entry in &list.entries {
            let e = s.entries.len() as u32;
            s.entries.push(Entry { id: entry.id, kind: entry.kind });
            for text in &entry.names {
                let mut ids = Vec::new();
                for t in tokens(text).into_iter().take(MAX_TOKENS) {
                    let id = match s.vocab.get(t.as_str()) {
                        Some(&id) => id,
                        None => s.add_token(t),
                    };
                    ids.push(id);
                }
                if ids.is_empty() {
                    continue;
                }
                let n = s.names.len() as u32;
                let mut distinct = ids.clone();
                distinct.sort_unstable();
                distinct.dedup();
                for &id in &distinct {
                    let token = &mut s.tokens[id as usize];
                    token.postings.push(n);
                    if ids.len() == 1 {
                        token.singles.push(n);
                    }
                }
                s.names.push(Name { entry: e, text: text.as_str().into(), tokens: ids.into() });
            }
        }
        let total = s.names.len().max(1) as f64;
        for token in &mut s.tokens {
            token.weight = (1.0 + total / token.postings.len().max(1) as f64).ln();
        }
        if !s.tokens.is_empty() {
            s.mean_weight = s.tokens.iter().map(|t| t.weight).sum::<f64>() / s.tokens.len() as f64;
        }
        s
    }

    fn add_token(&mut self, text: String) -> u32 {
        let id = self.tokens.len() as u32;
        let folded = fold(&text);
        let skel = key_skeleton(&text, &folded);
        for key in block_keys(&skel) {
            let bucket = self.blocks.entry(key).or_default();
            if bucket.last() != Some(&id) {
                bucket.push(id);
            }
        }
        self.vocab.insert(text.as_str().into(), id);
        self.shapes.push(Shape::of(&text, &folded, &skel));
        self.tokens.push(Token {
            optional: is_optional(&text),
            text: text.into(),
            folded: folded.into(),
            skeleton: skel.into(),
            weight: 0.0,
            postings: Vec::new(),
            singles: Vec::new(),
        });
        id
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of entries indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose names match `name` at or above the threshold, best first, at most
    /// `max_hits`, one hit (the best-matching name) per entry.
    pub fn screen(&self, name: &str) -> Vec<Hit> {
        let query = self.query(name);
        if query.is_empty() {
            return Vec::new();
        }
        // (list token, query token, similarity), by list token: what `score` looks up.
        let mut matched: Vec<(u32, u8, f64)> = query
            .iter()
            .enumerate()
            .flat_map(|(qi, q)| q.matches.iter().map(move |&(id, sim)| (id, qi as u8, sim)))
            .collect();
        matched.sort_unstable_by_key(|m| (m.0, m.1));
        let mut scored: Vec<(f64, u32)> = Vec::new();
        for n in self.candidates(&query) {
            if let Some(score) = self.score(&query, &matched, n, None) {
                if score >= self.config.threshold {
                    scored.push((score, n));
                }
            }
        }
        // Best first; ties by list order so results are reproducible.
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut hits: Vec<Hit> = Vec::new();
        for (_, n) in scored {
            let entry = self.names[n as usize].entry;
            if hits.iter().any(|h| h.entry_id == self.entries[entry as usize].id) {
                continue;
            }
            hits.push(self.explain(&query, &matched, n));
            if hits.len() == self.config.max_hits {
                break;
            }
        }
        hits
    }

    /// The best hit for `name`, if any. With [`Screener::remembering`], a name screened
    /// recently is answered from memory: the result of a name against one list never
    /// changes, and payers and merchants recur.
    pub fn best(&self, name: &str) -> Option<Hit> {
        let Some(recent) = &self.recent else { return self.screen(name).into_iter().next() };
        if let Some(known) = recent.get(name) {
            return known;
        }
        let best = self.screen(name).into_iter().next();
        recent.insert(name.into(), best.clone());
        best
    }

    /// Remembers the best hits of the last `names` distinct names screened (0: none).
    /// Each remembered name costs its text and, for a hit, its explanation.
    pub fn remembering(mut self, names: usize) -> Self {
        self.recent = (names > 0).then(|| quick_cache::sync::Cache::new(names));
        self
    }

    fn query(&self, name: &str) -> Vec<QueryToken> {
        let mut out = Vec::new();
        for text in tokens(name).into_iter().take(MAX_TOKENS) {
            let folded = fold(&text);
            let skel = key_skeleton(&text, &folded);
            let shape = Shape::of(&text, &folded, &skel);
            let mut candidates: Vec<u32> = Vec::new();
            let exact = self.vocab.get(text.as_str()).copied();
            candidates.extend(exact);
            for key in block_keys(&skel) {
                if let Some(bucket) = self.blocks.get(&key) {
                    candidates.extend_from_slice(bucket);
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            let weight = exact.map_or(self.mean_weight, |id| self.tokens[id as usize].weight);
            let mut q = QueryToken { text, folded, skeleton: skel, shape, weight, matches: Vec::new() };
            for id in candidates {
                let sim = if Some(id) == exact {
                    1.0
                } else {
                    similarity(&q, &self.tokens[id as usize], &self.shapes[id as usize], self.config.token_threshold)
                };
                if sim >= self.config.token_threshold {
                    q.matches.push((id, sim));
                }
            }
            out.push(q);
        }
        out
    }

    /// The names that can reach the threshold, found from the posting lists of the query
    /// tokens' matches, leaving out the longest lists when that cannot lose a hit:
    ///
    /// * by weight: the lists (one per query token and matching list token) are taken
    ///   longest first into a skipped set D while a name found only in D's lists could not
    ///   score the threshold: it pairs at most the query tokens D covers, each with weight at
    ///   most the heaviest list token D has for it, and leaves the other query tokens
    ///   unmatched (`score` with every pair exact and no listed token left over). A hit must
    ///   then be in some other list. Long lists belong to common tokens, which weigh little,
    ///   so a query with a common first name ("Muhammad") does not score every Muhammad.
    /// * by pairs: when D is empty, a name of two or more tokens still needs two pairs, so
    ///   it is in a list of some query token besides the most expensive one; of that token's
    ///   lists only the one-token names are taken.
    fn candidates(&self, query: &[QueryToken]) -> Vec<u32> {
        let token = |id: u32| &self.tokens[id as usize];
        let penalty = |q: &QueryToken| if is_optional(&q.text) { 0.0 } else { UNMATCHED_WEIGHT * q.weight };
        let mut lists: Vec<(usize, u32)> =
            query.iter().enumerate().flat_map(|(i, q)| q.matches.iter().map(move |&(id, _)| (i, id))).collect();
        lists.sort_unstable_by_key(|&(i, id)| (std::cmp::Reverse(token(id).postings.len()), i, id));
        let mut covered = [0.0f64; MAX_TOKENS];
        let mut skipped = 0;
        while skipped < lists.len() {
            let (i, id) = lists[skipped];
            let mut trial = covered;
            trial[i] = trial[i].max(token(id).weight);
            let w: f64 = trial.iter().sum();
            let p: f64 = query.iter().enumerate().filter(|&(j, _)| trial[j] == 0.0).map(|(_, q)| penalty(q)).sum();
            if w / (w + p) >= self.config.threshold {
                break;
            }
            covered = trial;
            skipped += 1;
        }
        let mut out = Vec::new();
        if skipped == 0 && query.len() > 1 {
            let load = |i: usize| query[i].matches.iter().map(|&(id, _)| token(id).postings.len()).sum::<usize>();
            let expensive = (0..query.len()).max_by_key(|&i| load(i));
            for (i, q) in query.iter().enumerate() {
                for &(id, _) in &q.matches {
                    let t = token(id);
                    out.extend_from_slice(if Some(i) == expensive { &t.singles } else { &t.postings });
                }
            }
        } else {
            for &(_, id) in &lists[skipped..] {
                out.extend_from_slice(&token(id).postings);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Scores `query` against name `n`: tokens are paired greedily, most similar first, each
    /// token used once (so word order does not matter); the score is the weighted
    /// similarity of the pairs over the weight of all tokens, unmatched ones counting
    /// [`UNMATCHED_WEIGHT`]. `None` when fewer than min(2, tokens of either side) pairs form:
    /// one shared common first name is not a match. `pairs_out` receives the pairing.
    fn score(
        &self,
        query: &[QueryToken],
        matched: &[(u32, u8, f64)],
        n: u32,
        pairs_out: Option<&mut Vec<(usize, usize, f64)>>,
    ) -> Option<f64> {
        let name = &self.names[n as usize];
        // Candidate pairs from the query's matches, looked up by list token. Most candidate
        // names fail the two-pair rule here, before anything is sorted.
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        let (mut q_mask, mut l_mask) = (0u32, 0u32);
        for (li, &t) in name.tokens.iter().enumerate() {
            let start = matched.partition_point(|m| m.0 < t);
            for &(_, qi, sim) in matched[start..].iter().take_while(|m| m.0 == t) {
                q_mask |= 1 << qi;
                l_mask |= 1 << li;
                pairs.push((sim, usize::from(qi), li));
            }
        }
        let needed = 2.min(query.len()).min(name.tokens.len()) as u32;
        if q_mask.count_ones() < needed || l_mask.count_ones() < needed {
            return None;
        }
        pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut q_used = [false; MAX_TOKENS];
        let mut l_used = [false; MAX_TOKENS];
        let mut chosen = Vec::new();
        for (sim, qi, li) in pairs {
            if !q_used[qi] && !l_used[li] {
                q_used[qi] = true;
                l_used[li] = true;
                chosen.push((qi, li, sim));
            }
        }
        if chosen.len() < needed as usize {
            return None;
        }
        let weight = |li: usize| self.tokens[name.tokens[li] as usize].weight;
        let mut matched = 0.0;
        let mut total = 0.0;
        for &(_, li, sim) in &chosen {
            matched += sim * weight(li);
            total += weight(li);
        }
        for (li, used) in l_used.iter().enumerate().take(name.tokens.len()) {
            if !used && !self.tokens[name.tokens[li] as usize].optional {
                total += UNMATCHED_WEIGHT * weight(li);
            }
        }
        for (q, used) in query.iter().zip(q_used) {
            if !used && !is_optional(&q.text) {
                total += UNMATCHED_WEIGHT * q.weight;
            }
        }
        if let Some(out) = pairs_out {
            *out = chosen;
        }
        Some(if total > 0.0 { matched / total } else { 0.0 })
    }

    fn explain(&self, query: &[QueryToken], matched: &[(u32, u8, f64)], n: u32) -> Hit {
        let mut chosen = Vec::new();
        let score = self.score(query, matched, n, Some(&mut chosen)).unwrap_or(0.0);
        let name = &self.names[n as usize];
        let entry = &self.entries[name.entry as usize];
        let token = |li: usize| &self.tokens[name.tokens[li] as usize];
        let token_pairs = chosen
            .iter()
            .map(|&(qi, li, sim)| TokenPair {
                query: query[qi].text.clone(),
                listed: token(li).text.to_string(),
                similarity: sim,
                weight: token(li).weight,
            })
            .collect();
        let unmatched_query =
            (0..query.len()).filter(|qi| !chosen.iter().any(|c| c.0 == *qi)).map(|qi| query[qi].text.clone()).collect();
        let unmatched_listed = (0..name.tokens.len())
            .filter(|li| !chosen.iter().any(|c| c.1 == *li))
            .map(|li| token(li).text.to_string())
            .collect();
        Hit {
            entry_id: entry.id,
            kind: entry.kind,
            matched_name: name.text.to_string(),
            score,
            threshold: self.config.threshold,
            token_pairs,
            unmatched_query,
            unmatched_listed,
        }
    }
}

/// Similarity of two tokens, by the strongest evidence that they are the same name:
///
/// | evidence                                                        | similarity      |
/// |-----------------------------------------------------------------|-----------------|
/// | same spelling                                                   | 1.0             |
/// | same [fold](crate::normalize::fold) ("Tarkazy"/"Tarkazi")       | 0.97            |
/// | same consonants (3+), folds ≤ 1 edit in 5 ("Mohamed"/"Muhammad") | 0.93            |
/// | one side unvocalised, same consonants ("mhmd"/"Muhammad")       | 0.90            |
/// | otherwise                                                       | Jaro–Winkler    |
///
/// Plain Jaro–Winkler comes last because it rates unrelated short names high ("Karen" and
/// "Karim" 0.92); the tiers above it hold only for differences that transliteration makes.
/// The vowel tier uses edit distance, not Jaro–Winkler, which penalises a changed vowel next
/// to a repeated letter as a transposition ("rerakar"/"rarakar" 0.82), and keeps apart names
/// whose vowels differ a lot ("Mahmud"/"Muhammad").
/// Returns 0 early when the lengths alone rule out reaching `floor`.
fn similarity(q: &QueryToken, t: &Token, shape: &Shape, floor: f64) -> f64 {
    // Hashes first: the strings are only read when they are likely equal.
    if q.shape.folded_hash == shape.folded_hash && q.folded == *t.folded {
        return FOLD_SIMILARITY;
    }
    let same_skeleton = q.shape.skeleton_hash == shape.skeleton_hash && q.skeleton == *t.skeleton;
    if same_skeleton && q.skeleton.len() >= 3 && strsim::normalized_levenshtein(&q.folded, &t.folded) >= 0.8 {
        return CONSONANT_SIMILARITY;
    }
    let mut best: f64 = 0.0;
    if same_skeleton && (q.shape.unvocalised || shape.unvocalised) && q.skeleton.len() >= 2 {
        best = SKELETON_SIMILARITY;
    }
    if q.shape.jaro_winkler_bound(shape) >= floor.max(best) {
        best = best.max(strsim::jaro_winkler(&q.text, &t.text));
    }
    best
}

/// The blocking keys of a skeleton: the skeleton itself and, for skeletons of three or more
/// letters, each one-letter deletion but of the first letter (so one consonant added,
/// dropped or changed after the first still meets). The first letter stays because
/// Jaro–Winkler rewards a shared prefix, so tokens differing there rarely reach the token
/// threshold, and its deletions would put much of the list in every bucket. Deletions of
/// three-letter skeletons cost time (many short tokens share their two-letter keys) but
/// find a third of the respelled names that would otherwise be missed (docs/screening.md).
fn block_keys(skel: &str) -> impl Iterator<Item = u64> + '_ {
    let b = skel.as_bytes();
    let deletions = if b.len() >= 3 { b.len() } else { 1 };
    std::iter::once(usize::MAX).chain(1..deletions).map(move |skip| {
        let mut h = FxHasher::default();
        for (i, &c) in b.iter().enumerate() {
            if i != skip {
                h.write_u8(c);
            }
        }
        h.write_usize(b.len() - usize::from(skip != usize::MAX));
        h.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::{ListEntry, Source};

    fn list(names: &[&[&str]]) -> SanctionsList {
        let entries = names
            .iter()
            .enumerate()
            .map(|(i, n)| ListEntry {
                id: EntryId { source: Source::Ofac, number: i as u64 + 1 },
                source: Source::Ofac,
                kind: EntryKind::Person,
                names: n.iter().map(|s| s.to_string()).collect(),
                programs: vec!["SDGT".into()],
            })
            .collect();
        SanctionsList { entries }
    }

    #[test]
    fn exact_and_reordered_names_score_one() {
        let s = Screener::new(&list(&[&["HUSSEIN, Saddam"], &["KASTELAN, Ivor"]]));
        let hit = s.best("Saddam Hussein").unwrap();
        assert_eq!(hit.entry_id.number, 1);
        assert!((hit.score - 1.0).abs() < 1e-9, "{hit}");
        assert_eq!(s.best("Hussein Saddam").unwrap().score, hit.score);
    }

    #[test]
    fn a_remembering_screener_answers_recurring_names_as_the_plain_one_does() {
        let listed = list(&[&["HUSSEIN, Saddam"], &["KASTELAN, Ivor"]]);
        let (plain, remembering) = (Screener::new(&listed), Screener::new(&listed).remembering(2));
        for name in
            ["Saddam Hussein", "CHAN Tai Man", "Saddam Hussein", "Ivor Kastelan", "CHAN Tai Man", "Sadam Husein"]
        {
            assert_eq!(remembering.best(name), plain.best(name), "{name}");
        }
        let recent = remembering.recent.as_ref().unwrap();
        assert!(recent.len() <= 2, "bounded: {}", recent.len());
        assert!(Screener::new(&listed).remembering(0).recent.is_none());
    }

    #[test]
    fn one_common_token_is_not_a_match() {
        let s = Screener::new(&list(&[&["HUSSEIN, Saddam"], &["KASTELAN, Ivor"]]));
        assert!(s.screen("Saddam Smith").is_empty());
    }

    #[test]
    fn one_hit_per_entry_with_its_best_alias() {
        let s = Screener::new(&list(&[&["ZAHIR, Kamal Ahmad", "ZAHIR, Kemal", "Kamal Zahir"]]));
        let hits = s.screen("Kamal Zahir");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matched_name, "Kamal Zahir");
    }

    #[test]
    fn config_is_validated() {
        let l = list(&[]);
        for bad in [
            Config { threshold: 1.5, ..Config::default() },
            Config { token_threshold: f64::NAN, ..Config::default() },
            Config { max_hits: 0, ..Config::default() },
        ] {
            assert!(Screener::with_config(&l, bad).is_err());
        }
        assert!(Screener::new(&l).screen("anyone").is_empty());
    }

    #[test]
    fn blocking_keys_meet_one_consonant_apart() {
        let a: Vec<u64> = block_keys("mkmd").collect();
        let b: Vec<u64> = block_keys("mhmd").collect();
        assert!(a.iter().any(|k| b.contains(k)));
        assert_eq!(block_keys("al").count(), 1);
        assert_eq!(block_keys("krm").count(), 3);
    }
}
