//! Fast paths for common regex shapes in label matchers, so the value scan of `=~` / `!~` does not run the
//! regex engine: alternations of literals (`a|b|c`, `(a|b)`), prefixes (`foo.*`), suffixes (`.*foo`),
//! substrings (`.*foo.*`), and `.+`. Anything else (classes, repetition, flags, groups inside branches,
//! escapes other than of meta characters) is left to the regex.
//!
//! The matcher compiles `^(?s:pattern)$`, so `.` matches any character including a newline, and every
//! shape here is equivalent to the anchored regex.

/// A regex recognised as a simple string test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FastPattern {
    /// `.+`: any non-empty value.
    NonEmpty,
    /// Alternation of branches; a value matches when one branch does.
    Branches(Vec<Branch>),
}

/// One alternation branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Branch {
    /// `lit`
    Exact(String),
    /// `lit.*`
    Prefix(String),
    /// `.*lit`
    Suffix(String),
    /// `.*lit.*`
    Contains(String),
}

impl Branch {
    fn matches(&self, v: &str) -> bool {
        match self {
            Branch::Exact(l) => v == l,
            Branch::Prefix(l) => v.starts_with(l.as_str()),
            Branch::Suffix(l) => v.ends_with(l.as_str()),
            Branch::Contains(l) => v.contains(l.as_str()),
        }
    }
}

impl FastPattern {
    /// Recognises `pattern` (as written, before anchoring); `None` when it needs the regex engine.
    pub(crate) fn parse(pattern: &str) -> Option<Self> {
        let tokens = tokenize(pattern)?;
        if tokens == [Tok::Dot, Tok::Plus] {
            return Some(FastPattern::NonEmpty);
        }
        let mut body: &[Tok] = &tokens;
        if let [Tok::Open, inner @ .., Tok::Close] = body {
            body = inner;
        }
        let mut branches = Vec::new();
        for part in body.split(|t| *t == Tok::Pipe) {
            branches.push(parse_branch(part)?);
        }
        Some(FastPattern::Branches(branches))
    }

    /// Whether `v` matches (equivalent to the anchored regex).
    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            FastPattern::NonEmpty => !v.is_empty(),
            FastPattern::Branches(bs) => bs.iter().any(|b| b.matches(v)),
        }
    }

    /// The literal values when every branch is exact, for direct postings lookups.
    pub(crate) fn literals(&self) -> Option<Vec<&str>> {
        match self {
            FastPattern::NonEmpty => None,
            FastPattern::Branches(bs) => bs
                .iter()
                .map(|b| match b {
                    Branch::Exact(l) => Some(l.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// True when every value matches (`.*`, `foo|.*`).
    pub(crate) fn matches_everything(&self) -> bool {
        match self {
            FastPattern::NonEmpty => false,
            FastPattern::Branches(bs) => bs.iter().any(|b| match b {
                Branch::Exact(_) => false,
                Branch::Prefix(l) | Branch::Suffix(l) | Branch::Contains(l) => l.is_empty(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Dot,
    Star,
    Plus,
    Pipe,
    Open,
    Close,
}

/// Splits a pattern into tokens; `None` on any construct the fast paths do not cover.
fn tokenize(pattern: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let t = match c {
            '\\' => {
                let e = chars.next()?;
                // Only escapes of meta characters are plain literals; `\d`, `\b`, `\<`, `\x41`, … are not.
                if !"\\.+*?()|[]{}^$#&-~".contains(e) {
                    return None;
                }
                Tok::Lit(e)
            }
            '.' => Tok::Dot,
            '*' => Tok::Star,
            '+' => Tok::Plus,
            '|' => Tok::Pipe,
            '(' => Tok::Open,
            ')' => Tok::Close,
            '?' | '[' | ']' | '{' | '}' | '^' | '$' => return None,
            c => Tok::Lit(c),
        };
        out.push(t);
    }
    Some(out)
}

/// Parses one alternation branch: `[.*] literal [.*]`.
fn parse_branch(mut toks: &[Tok]) -> Option<Branch> {
    let mut lead = false;
    let mut trail = false;
    if let [Tok::Dot, Tok::Star, rest @ ..] = toks {
        lead = true;
        toks = rest;
    }
    if let [rest @ .., Tok::Dot, Tok::Star] = toks {
        trail = true;
        toks = rest;
    }
    let lit: Option<String> = toks
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect();
    let lit = lit?;
    Some(match (lead, trail) {
        (false, false) => Branch::Exact(lit),
        (false, true) => Branch::Prefix(lit),
        (true, false) => Branch::Suffix(lit),
        (true, true) => Branch::Contains(lit),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;
    use crate::matcher::{LabelMatcher, MatchOp};

    #[test]
    fn recognises_shapes() {
        let p = |s: &str| FastPattern::parse(s);
        assert_eq!(p(".+"), Some(FastPattern::NonEmpty));
        assert_eq!(
            p("a|b\\.c"),
            Some(FastPattern::Branches(vec![
                Branch::Exact("a".into()),
                Branch::Exact("b.c".into())
            ]))
        );
        assert_eq!(p("(a|b)").unwrap().literals(), Some(vec!["a", "b"]));
        assert_eq!(
            p("foo.*"),
            Some(FastPattern::Branches(vec![Branch::Prefix("foo".into())]))
        );
        assert_eq!(
            p(".*foo"),
            Some(FastPattern::Branches(vec![Branch::Suffix("foo".into())]))
        );
        assert_eq!(
            p(".*foo.*"),
            Some(FastPattern::Branches(vec![Branch::Contains("foo".into())]))
        );
        assert!(p(".*").unwrap().matches_everything());
        assert!(p("x|.*").unwrap().matches_everything());
        assert!(!p("x.*").unwrap().matches_everything());
        assert_eq!(p("a|").unwrap().literals(), Some(vec!["a", ""]));
        for slow in [
            "a+", "a*", "[ab]", "a?", "(?i)a", "\\d", "a.b", "(a)|(b)", "a{2}", "^a", "\\<a", "x(a|b)",
        ] {
            assert_eq!(p(slow), None, "{slow}");
        }
    }

    fn pattern() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just("b"),
                Just("."),
                Just(".*"),
                Just("|"),
                Just("("),
                Just(")"),
                Just("\\."),
                Just("+"),
                Just("\n"),
            ],
            0..6,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_regex(pat in pattern(), values in proptest::collection::vec("[ab.\n]{0,4}", 1..8)) {
            let Ok(m) = LabelMatcher::new("x", MatchOp::RegexMatch, pat.clone()) else { return Ok(()) };
            if let Some(fast) = FastPattern::parse(&pat) {
                for v in values.iter().chain(std::iter::once(&String::new())) {
                    prop_assert_eq!(fast.matches(v), m.matches(v), "pattern {:?} value {:?}", pat, v);
                }
                if fast.matches_everything() {
                    prop_assert!(values.iter().all(|v| m.matches(v)));
                }
            }
        }
    }
}
