//! The PromQL lexer: a lazy, context-sensitive tokenizer that follows Prometheus' `lex.go` state machine
//! (statements, inside braces, inside brackets), so that token boundaries and error messages match.

use nom::{IResult, Parser, bytes::complete::take_while, character::complete::satisfy, combinator::recognize};

use super::literals::{go_quote, go_quote_rune, go_unicode_rune};
use super::token::{LexError, describe, keyword};
pub(crate) use super::token::{Tok, Token};

/// Which `lex.go` state function runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Statements,
    InsideBraces,
    DurationExpr,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, optionally with colons (metric names outside braces).
fn identifier(i: &str, colons: bool) -> IResult<&str, &str> {
    recognize((
        satisfy(|c| is_alpha(c) || (colons && c == ':')),
        take_while(|c| is_alnum(c) || (colons && c == ':')),
    ))
    .parse(i)
}

/// The lexer. `next_token` yields tokens on demand, skipping comments.
pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
    state: State,
    paren_depth: i64,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    done: bool,
}

/// Result of one state step.
enum Step {
    Emit(Tok),
    Skip,
    Error(String),
}

impl<'a> Lexer<'a> {
    /// A lexer over `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Lexer {
            input,
            pos: 0,
            start: 0,
            width: 0,
            state: State::Statements,
            paren_depth: 0,
            bracket_open: false,
            got_colon: false,
            got_duration: false,
            done: false,
        }
    }

    /// The text of a token.
    pub(crate) fn text(&self, t: &Token) -> &'a str {
        self.input.get(t.start..t.end).unwrap_or("")
    }

    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    /// Go's `next`: consumes one rune; `None` at the end (width 0).
    fn next(&mut self) -> Option<char> {
        match self.rest().chars().next() {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn is(&self, valid: &str) -> bool {
        self.peek().is_some_and(|c| valid.contains(c))
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.next();
        }
        self.start = self.pos;
    }

    /// Returns the next token (comments are skipped), or the lexer's error.
    pub(crate) fn next_token(&mut self) -> Result<Token, LexError> {
        loop {
            if self.done {
                return Ok(Token {
                    kind: Tok::Eof,
                    start: self.input.len(),
                    end: self.input.len(),
                });
            }
            self.start = self.pos;
            let step = match self.state {
                State::Statements => self.lex_statements(),
                State::InsideBraces => self.lex_inside_braces(),
                State::DurationExpr => self.lex_duration_expr(),
            };
            match step {
                Step::Emit(kind) => {
                    if kind == Tok::Eof {
                        self.done = true;
                    }
                    return Ok(Token {
                        kind,
                        start: self.start,
                        end: self.pos,
                    });
                }
                Step::Skip => {}
                Step::Error(message) => {
                    self.done = true;
                    return Err(LexError {
                        message,
                        start: self.start,
                    });
                }
            }
        }
    }

    fn line_comment(&mut self) -> Step {
        let rest = self.rest();
        let len = rest.find(['\r', '\n']).unwrap_or(rest.len());
        self.pos += len;
        Step::Skip
    }

    fn lex_statements(&mut self) -> Step {
        if self.rest().starts_with('#') {
            return self.line_comment();
        }
        let Some(r) = self.next() else {
            if self.paren_depth != 0 {
                return Step::Error("unclosed left parenthesis".into());
            }
            if self.bracket_open {
                return Step::Error("unclosed left bracket".into());
            }
            return Step::Emit(Tok::Eof);
        };
        let tok = match r {
            ',' => Tok::Comma,
            c if is_space(c) => {
                self.skip_spaces();
                return Step::Skip;
            }
            '*' => Tok::Mul,
            '/' => Tok::Div,
            '%' => Tok::Mod,
            '+' => Tok::Add,
            '-' => Tok::Sub,
            '^' => Tok::Pow,
            '=' => match self.peek() {
                Some('=') => {
                    self.next();
                    Tok::Eqlc
                }
                Some('~') => return Step::Error("unexpected character after '=': '~'".into()),
                _ => Tok::Eql,
            },
            '!' => match self.next() {
                Some('=') => Tok::Neq,
                t => {
                    return Step::Error(format!(
                        "unexpected character after '!': {}",
                        go_quote_rune(t.unwrap_or('\u{FFFD}'))
                    ));
                }
            },
            '<' => match self.peek() {
                Some('=') => {
                    self.next();
                    Tok::Lte
                }
                Some('/') => {
                    self.next();
                    Tok::TrimUpper
                }
                _ => Tok::Lss,
            },
            '>' => match self.peek() {
                Some('=') => {
                    self.next();
                    Tok::Gte
                }
                Some('/') => {
                    self.next();
                    Tok::TrimLower
                }
                _ => Tok::Gtr,
            },
            c if c.is_ascii_digit() || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) => {
                self.backup();
                return self.lex_number_or_duration();
            }
            '"' | '\'' => return self.lex_string(r),
            '`' => return self.lex_raw_string(),
            c if is_alpha(c) || c == ':' => {
                if !self.bracket_open {
                    self.backup();
                    return self.lex_keyword_or_identifier();
                }
                if c == ':' {
                    if self.got_colon {
                        return Step::Error("unexpected colon ':'".into());
                    }
                    self.got_colon = true;
                    return Step::Emit(Tok::Colon);
                }
                if let Some(t) = self.scan_duration_keyword(c) {
                    return Step::Emit(t);
                }
                return Step::Error(format!("unexpected character: {}, expected ':'", go_quote_rune(c)));
            }
            '(' => {
                self.paren_depth += 1;
                Tok::LParen
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus emits the token first, so the error starts after it.
                    self.start = self.pos;
                    return Step::Error("unexpected right parenthesis ')'".into());
                }
                Tok::RParen
            }
            '{' => {
                self.state = State::InsideBraces;
                Tok::LBrace
            }
            '[' => {
                if self.bracket_open {
                    return Step::Error("unexpected left bracket '['".into());
                }
                self.got_colon = false;
                self.bracket_open = true;
                self.state = State::DurationExpr;
                Tok::LBracket
            }
            ']' => {
                if !self.bracket_open {
                    return Step::Error("unexpected right bracket ']'".into());
                }
                self.bracket_open = false;
                Tok::RBracket
            }
            '@' => Tok::At,
            c => return Step::Error(format!("unexpected character: {}", go_quote_rune(c))),
        };
        Step::Emit(tok)
    }

    fn lex_inside_braces(&mut self) -> Step {
        if self.rest().starts_with('#') {
            return self.line_comment();
        }
        let Some(r) = self.next() else {
            return Step::Error("unexpected end of input inside braces".into());
        };
        let tok = match r {
            c if is_space(c) => {
                self.skip_spaces();
                return Step::Skip;
            }
            c if is_alpha(c) => {
                self.backup();
                if let Ok((rest, _)) = identifier(self.rest(), false) {
                    self.pos = self.input.len() - rest.len();
                }
                Tok::Identifier
            }
            ',' => Tok::Comma,
            '"' | '\'' => return self.lex_string(r),
            '`' => return self.lex_raw_string(),
            '=' => {
                if self.next() == Some('~') {
                    Tok::EqlRegex
                } else {
                    self.backup();
                    Tok::Eql
                }
            }
            '!' => match self.next() {
                Some('~') => Tok::NeqRegex,
                Some('=') => Tok::Neq,
                t => {
                    return Step::Error(format!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_rune(t.unwrap_or('\u{FFFD}'))
                    ));
                }
            },
            '{' => return Step::Error("unexpected left brace '{'".into()),
            '}' => {
                self.state = State::Statements;
                Tok::RBrace
            }
            c => return Step::Error(format!("unexpected character inside braces: {}", go_quote_rune(c))),
        };
        Step::Emit(tok)
    }

    fn lex_duration_expr(&mut self) -> Step {
        let Some(r) = self.next() else {
            return Step::Error("unexpected end of input in duration expression".into());
        };
        let tok = match r {
            ']' => {
                self.bracket_open = false;
                self.got_colon = false;
                self.state = State::Statements;
                Tok::RBracket
            }
            ':' => {
                if !self.got_duration {
                    return Step::Error("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    return Step::Error("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
                Tok::Colon
            }
            '(' => {
                self.paren_depth += 1;
                Tok::LParen
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus emits the token first, so the error starts after it.
                    self.start = self.pos;
                    return Step::Error("unexpected right parenthesis ')'".into());
                }
                Tok::RParen
            }
            c if is_space(c) => {
                self.skip_spaces();
                return Step::Skip;
            }
            '+' => Tok::Add,
            '-' => Tok::Sub,
            '*' => Tok::Mul,
            '/' => Tok::Div,
            '%' => Tok::Mod,
            '^' => Tok::Pow,
            ',' => Tok::Comma,
            c if "srmSRM".contains(c) => match self.scan_duration_keyword(c) {
                Some(t) => t,
                None => {
                    return Step::Error(format!(
                        "unexpected character in duration expression: {}",
                        go_quote_rune(c)
                    ));
                }
            },
            c if c.is_ascii_digit() || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) => {
                self.backup();
                self.got_duration = true;
                self.state = State::Statements;
                return self.lex_number_or_duration();
            }
            c => {
                return Step::Error(format!(
                    "unexpected character in duration expression: {}",
                    go_quote_rune(c)
                ));
            }
        };
        Step::Emit(tok)
    }

    /// Scans `step`, `range`, `max_of`, `min_of` (any case) inside brackets; the first rune is consumed.
    fn scan_duration_keyword(&mut self, _first: char) -> Option<Tok> {
        while self.peek().is_some_and(is_alpha) {
            self.next();
        }
        let word = self.input.get(self.start..self.pos).unwrap_or("").to_ascii_lowercase();
        match word.as_str() {
            "step" => Some(Tok::Step),
            "range" => Some(Tok::Range),
            "max_of" => Some(Tok::MaxOf),
            "min_of" => Some(Tok::MinOf),
            _ => None,
        }
    }

    fn lex_keyword_or_identifier(&mut self) -> Step {
        if let Ok((rest, _)) = identifier(self.rest(), true) {
            self.pos = self.input.len() - rest.len();
        }
        let word = self.input.get(self.start..self.pos).unwrap_or("");
        match keyword(&word.to_ascii_lowercase()) {
            Some(kw @ (Tok::Fill | Tok::FillLeft | Tok::FillRight)) => {
                // Only a keyword when followed by '(' so that `fill` stays usable as a metric name.
                if self.rest().trim_start_matches(is_space).starts_with('(') {
                    Step::Emit(kw)
                } else {
                    Step::Emit(Tok::Identifier)
                }
            }
            Some(kw) => Step::Emit(kw),
            None if word.contains(':') => Step::Emit(Tok::MetricIdentifier),
            None => Step::Emit(Tok::Identifier),
        }
    }

    fn lex_number_or_duration(&mut self) -> Step {
        if self.scan_number() {
            return Step::Emit(Tok::Number);
        }
        if self.accept_remaining_duration() {
            self.backup();
            return Step::Emit(Tok::Duration);
        }
        let text = self.input.get(self.start..self.pos).unwrap_or("");
        Step::Error(format!("bad number or duration syntax: {}", go_quote(text)))
    }

    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        !self.next().is_some_and(is_alnum)
    }

    /// Go's `scanNumber`, transcribed literally (quirks included): true when a number token ends here.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        let mut hex = false;
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
            hex = true;
        }
        self.accept(".");
        self.accept(digits);
        let mut dot = false;
        let mut exp = false;
        while self.peek().is_some_and(|c| digits.contains(c) || ".eE_".contains(c)) {
            if self.is(".") && dot {
                self.accept(".");
                return false;
            }
            if self.is("eE") && exp {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot = true;
                if self.accept("_.") || hex {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exp = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alnum)
    }

    fn lex_string(&mut self, quote: char) -> Step {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Some(msg) = self.lex_escape(quote) {
                        return Step::Error(msg);
                    }
                }
                None | Some('\n') => return Step::Error("unterminated quoted string".into()),
                Some(c) if c == quote => return Step::Emit(Tok::String),
                Some(_) => {}
            }
        }
    }

    /// Validates one escape sequence (the backslash is consumed); returns Prometheus' message on error.
    fn lex_escape(&mut self, quote: char) -> Option<String> {
        let ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = match ch {
            Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => return None,
            Some(c) if c == quote => return None,
            Some('0'..='7') => (3, 8, 255),
            Some('x') => (2, 16, 255),
            Some('u') => (4, 16, 0x10FFFF),
            Some('U') => (8, 16, 0x10FFFF),
            None => return Some("escape sequence not terminated".into()),
            Some(c) => return Some(format!("unknown escape sequence {}", go_unicode_rune(c))),
        };
        let mut cur = match ch {
            Some('x' | 'u' | 'U') => self.next(),
            other => other,
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = cur.and_then(|c| c.to_digit(16)).unwrap_or(16);
            if d >= base {
                return Some(match cur {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!("illegal character {} in escape sequence", go_unicode_rune(c)),
                });
            }
            x = x.saturating_mul(base).saturating_add(d);
            n -= 1;
            if n > 0 {
                cur = self.next();
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Some("escape sequence is an invalid Unicode code point".into());
        }
        None
    }

    fn lex_raw_string(&mut self) -> Step {
        loop {
            match self.next() {
                None => return Step::Error("unterminated raw string".into()),
                Some('`') => return Step::Emit(Tok::String),
                Some(_) => {}
            }
        }
    }

    /// Prometheus' `Item.desc()` for a token, used in "unexpected ..." messages.
    pub(crate) fn describe(&self, t: &Token) -> String {
        describe(t.kind, self.text(t))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::ast::AggregateOp;
    use super::*;

    fn kinds(input: &str) -> Result<Vec<(Tok, String)>, LexError> {
        let mut l = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let t = l.next_token()?;
            if t.kind == Tok::Eof {
                return Ok(out);
            }
            out.push((t.kind, l.text(&t).to_owned()));
        }
    }

    #[test]
    fn tokens() {
        let k = kinds(r#"sum by (a) (rate(foo:bar{a=~"x",b!="y"}[5m:1m] offset -1h)) # c"#).unwrap();
        let got: Vec<Tok> = k.iter().map(|x| x.0).collect();
        use Tok::*;
        assert_eq!(
            got,
            vec![
                Agg(AggregateOp::Sum),
                By,
                LParen,
                Identifier,
                RParen,
                LParen,
                Identifier,
                LParen,
                MetricIdentifier,
                LBrace,
                Identifier,
                EqlRegex,
                String,
                Comma,
                Identifier,
                Neq,
                String,
                RBrace,
                LBracket,
                Duration,
                Colon,
                Duration,
                RBracket,
                Offset,
                Sub,
                Duration,
                RParen,
                RParen
            ]
        );
    }

    #[test]
    fn numbers_and_errors() {
        assert_eq!(kinds("0x1f 1e3 .5 Inf nan 1_000").unwrap().len(), 6);
        assert_eq!(
            kinds("2.5.").unwrap_err().message,
            r#"bad number or duration syntax: "2.5.""#
        );
        assert_eq!(
            kinds("100..4").unwrap_err().message,
            r#"bad number or duration syntax: "100..""#
        );
        assert_eq!(
            kinds("0deadbeef").unwrap_err().message,
            r#"bad number or duration syntax: "0de""#
        );
        assert_eq!(
            kinds("foo[5mm]").unwrap_err().message,
            r#"bad number or duration syntax: "5mm""#
        );
        assert_eq!(
            kinds(r#""\c""#).unwrap_err().message,
            "unknown escape sequence U+0063 'c'"
        );
        assert_eq!(
            kinds(r#""\x.""#).unwrap_err().message,
            "illegal character U+002E '.' in escape sequence"
        );
        assert_eq!(kinds("((1)").unwrap_err().message, "unclosed left parenthesis");
        assert_eq!(
            kinds("foo[5s x 5s]").unwrap_err().message,
            "unexpected character: 'x', expected ':'"
        );
    }
}
