//! Parsing of test scripts into commands (`load`, `clear`, `eval ...` with `expect` lines).

use strata_storage::Labels;

use super::series::{SeqValue, parse_duration_ms, parse_number, parse_series, parse_string};

/// A `load` block.
#[derive(Debug, Clone)]
pub struct LoadCmd {
    /// 1-based line of the command.
    pub line: usize,
    /// Interval between points, milliseconds.
    pub step: i64,
    /// `load_with_nhcb`: classic histograms also loaded as native histograms with custom buckets.
    pub with_nhcb: bool,
    /// Series and their points.
    pub series: Vec<(Labels, Vec<SeqValue>)>,
    /// Series with start timestamps (`@st` lines), which Strata does not store.
    pub st_series: Vec<Labels>,
}

/// How an expected annotation or error message is matched.
#[derive(Debug, Clone)]
pub enum MsgMatch {
    /// Anything.
    Any,
    /// Exact text.
    Exact(String),
    /// A regular expression (unanchored, as Go's `MatchString`).
    Regex(regex::Regex),
}

impl MsgMatch {
    /// Whether `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            MsgMatch::Any => true,
            MsgMatch::Exact(m) => m == s,
            MsgMatch::Regex(r) => r.is_match(s),
        }
    }
}

impl std::fmt::Display for MsgMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MsgMatch::Any => f.write_str(".*"),
            MsgMatch::Exact(m) => f.write_str(m),
            MsgMatch::Regex(r) => f.write_str(r.as_str()),
        }
    }
}

/// Instant or range evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at t`.
    Instant {
        /// Evaluation time, ms.
        at: i64,
    },
    /// `eval range from s to e step d`.
    Range {
        /// Start, ms.
        start: i64,
        /// End, ms.
        end: i64,
        /// Step, ms.
        step: i64,
    },
}

/// One expected series (or a scalar when `labels` is `None`).
#[derive(Debug, Clone)]
pub struct Expected {
    /// Labels; `None` for a bare number (a scalar result).
    pub labels: Option<Labels>,
    /// Values.
    pub vals: Vec<SeqValue>,
    /// 1-based position among the expected series lines (for ordered results).
    pub pos: usize,
}

/// An `eval` command.
#[derive(Debug, Clone)]
pub struct EvalCmd {
    /// 1-based line of the command.
    pub line: usize,
    /// The query text.
    pub expr: String,
    /// Instant or range.
    pub kind: EvalKind,
    /// `eval_fail` or `expect fail`.
    pub fail: Option<MsgMatch>,
    /// `eval_warn`.
    pub warn_legacy: bool,
    /// `eval_info`.
    pub info_legacy: bool,
    /// `eval_ordered` or `expect ordered`.
    pub ordered: bool,
    /// `expect warn` lines.
    pub warn: Vec<MsgMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect info` lines.
    pub info: Vec<MsgMatch>,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect string "..."`.
    pub expected_string: Option<String>,
    /// `expect range vector from .. to .. step ..`: (start, end, step) in ms.
    pub range_vector: Option<(i64, i64, i64)>,
    /// Expected results.
    pub expected: Vec<Expected>,
    /// Whether the expectation is a scalar.
    pub expect_scalar: bool,
    /// 0-based line indices of the expected result lines (rewritten by bless mode).
    pub result_lines: Vec<usize>,
    /// 0-based index of the last line belonging to this command.
    pub last_line: usize,
}

impl EvalCmd {
    /// Whether the result must be compared as an instant-query matrix or scalar etc. only (no range re-run).
    pub fn exclude_from_range(&self) -> bool {
        self.expected_string.is_some() || self.range_vector.is_some()
    }
}

/// A script command.
#[derive(Debug, Clone)]
pub enum Command {
    /// `load`.
    Load(LoadCmd),
    /// `clear`.
    Clear,
    /// `eval`.
    Eval(Box<EvalCmd>),
}

fn trimmed_lines(input: &str) -> Vec<String> {
    input
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect()
}

fn parse_expect(line: &str) -> Result<(String, MsgMatch), String> {
    let rest = line.strip_prefix("expect").unwrap_or(line).trim_start();
    let (kind, tail) = match rest.split_once(char::is_whitespace) {
        Some((k, t)) => (k, t.trim()),
        None => (rest, ""),
    };
    if !matches!(kind, "ordered" | "fail" | "warn" | "no_warn" | "info" | "no_info") {
        return Err(format!("invalid expect statement {line:?}"));
    }
    if tail.is_empty() {
        return Ok((kind.to_string(), MsgMatch::Any));
    }
    if let Some(m) = tail.strip_prefix("msg:") {
        return Ok((kind.to_string(), MsgMatch::Exact(m.trim().to_string())));
    }
    if let Some(m) = tail.strip_prefix("regex:") {
        let r = regex::Regex::new(m.trim()).map_err(|e| e.to_string())?;
        return Ok((kind.to_string(), MsgMatch::Regex(r)));
    }
    Err(format!("invalid expect statement {line:?}"))
}

/// Parses a script.
pub fn parse_script(input: &str) -> Result<Vec<Command>, String> {
    let lines = trimmed_lines(input);
    let mut cmds = Vec::new();
    let mut i = 0usize;
    let err = |i: usize, m: String| format!("line {}: {m}", i + 1);
    while i < lines.len() {
        let l = lines.get(i).cloned().unwrap_or_default();
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if word == "clear" {
            cmds.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let with_nhcb = word == "load_with_nhcb";
            let step_str = l
                .split_whitespace()
                .nth(1)
                .ok_or_else(|| err(i, "load needs a step".into()))?;
            let step = parse_duration_ms(step_str).ok_or_else(|| err(i, format!("invalid step {step_str:?}")))?;
            let mut cmd = LoadCmd {
                line: i + 1,
                step,
                with_nhcb,
                series: Vec::new(),
                st_series: Vec::new(),
            };
            i += 1;
            while let Some(def) = lines.get(i) {
                if def.is_empty() {
                    break;
                }
                let metric_end = def.find(char::is_whitespace).unwrap_or(def.len());
                if def.get(..metric_end).is_some_and(|m| m.ends_with("@st")) {
                    let m = def.get(..metric_end - 3).unwrap_or("");
                    let (labels, _) = super::series::parse_metric(m).map_err(|e| err(i, e))?;
                    cmd.st_series.push(labels);
                } else {
                    // A later definition of the same series in one block replaces the earlier one.
                    let (labels, vals) = parse_series(def).map_err(|e| err(i, e))?;
                    cmd.series.retain(|(l, _)| *l != labels);
                    cmd.series.push((labels, vals));
                }
                i += 1;
            }
            cmds.push(Command::Load(cmd));
        } else if word.starts_with("eval") {
            let (cmd, next) = parse_eval(&lines, i).map_err(|e| err(i, e))?;
            cmds.push(Command::Eval(Box::new(cmd)));
            i = next;
        } else {
            return Err(err(i, format!("invalid command {l:?}")));
        }
    }
    Ok(cmds)
}

fn parse_eval(lines: &[String], i: usize) -> Result<(EvalCmd, usize), String> {
    let l = lines.get(i).cloned().unwrap_or_default();
    let (head, rest) = l.split_once(char::is_whitespace).unwrap_or((&l, ""));
    let modifier = head
        .strip_prefix("eval")
        .unwrap_or("")
        .trim_start_matches('_')
        .to_string();
    let rest = rest.trim_start();
    let (kind, expr) = if let Some(r) = rest.strip_prefix("instant") {
        let r = r.trim_start();
        let r = r.strip_prefix("at").ok_or("expected `at`")?.trim_start();
        let (t, e) = r.split_once(char::is_whitespace).ok_or("missing query")?;
        let at = parse_duration_ms(t).ok_or_else(|| format!("invalid timestamp {t:?}"))?;
        (EvalKind::Instant { at }, e.trim().to_string())
    } else if let Some(r) = rest.strip_prefix("range") {
        let parts: Vec<&str> = r.trim_start().splitn(7, char::is_whitespace).collect();
        let (Some(&"from"), Some(s), Some(&"to"), Some(e), Some(&"step"), Some(st), Some(q)) = (
            parts.first(),
            parts.get(1),
            parts.get(2),
            parts.get(3),
            parts.get(4),
            parts.get(5),
            parts.get(6),
        ) else {
            return Err("invalid range eval".into());
        };
        let start = parse_duration_ms(s).ok_or("bad start")?;
        let end = parse_duration_ms(e).ok_or("bad end")?;
        let step = parse_duration_ms(st).ok_or("bad step")?;
        (EvalKind::Range { start, end, step }, q.trim().to_string())
    } else {
        return Err(format!("invalid evaluation command {l:?}"));
    };
    let mut cmd = EvalCmd {
        line: i + 1,
        expr,
        kind,
        fail: (modifier == "fail").then_some(MsgMatch::Any),
        warn_legacy: modifier == "warn",
        info_legacy: modifier == "info",
        ordered: modifier == "ordered",
        warn: Vec::new(),
        no_warn: false,
        info: Vec::new(),
        no_info: false,
        expected_string: None,
        range_vector: None,
        expected: Vec::new(),
        expect_scalar: false,
        result_lines: Vec::new(),
        last_line: i,
    };
    let mut j = i + 1;
    let mut pos = 0usize;
    while let Some(def) = lines.get(j) {
        if def.is_empty() {
            break;
        }
        cmd.last_line = j;
        if cmd.fail.is_some() && def.starts_with("expected_fail_message") {
            let m = def.trim_start_matches("expected_fail_message").trim();
            cmd.fail = Some(MsgMatch::Exact(m.to_string()));
            j += 1;
            break;
        }
        if cmd.fail.is_some() && def.starts_with("expected_fail_regexp") {
            let m = def.trim_start_matches("expected_fail_regexp").trim();
            cmd.fail = Some(MsgMatch::Regex(regex::Regex::new(m).map_err(|e| e.to_string())?));
            j += 1;
            break;
        }
        if let Some(r) = def.strip_prefix("expect range vector") {
            let parts: Vec<&str> = r.split_whitespace().collect();
            let (Some(&"from"), Some(s), Some(&"to"), Some(e), Some(&"step"), Some(st)) = (
                parts.first(),
                parts.get(1),
                parts.get(2),
                parts.get(3),
                parts.get(4),
                parts.get(5),
            ) else {
                return Err(format!("invalid range vector definition {def:?}"));
            };
            let s = parse_duration_ms(s).ok_or("bad start")?;
            let e = parse_duration_ms(e).ok_or("bad end")?;
            let st = parse_duration_ms(st).ok_or("bad step")?;
            cmd.range_vector = Some((s, e, st));
            cmd.kind = EvalKind::Instant { at: e };
            j += 1;
            continue;
        }
        if let Some(r) = def.strip_prefix("expect string") {
            let (s, _) = parse_string(r.trim()).map_err(|e| format!("expected string literal not valid: {e}"))?;
            cmd.expected_string = Some(s);
            j += 1;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            let (kind, m) = parse_expect(def)?;
            match kind.as_str() {
                "ordered" => cmd.ordered = true,
                "fail" => cmd.fail = Some(m),
                "warn" => cmd.warn.push(m),
                "no_warn" => cmd.no_warn = true,
                "info" => cmd.info.push(m),
                "no_info" => cmd.no_info = true,
                _ => {}
            }
            j += 1;
            continue;
        }
        cmd.result_lines.push(j);
        if let Some(f) = parse_number(def) {
            cmd.expect_scalar = true;
            cmd.expected.push(Expected {
                labels: None,
                vals: vec![SeqValue::Value(f)],
                pos: 0,
            });
            j += 1;
            break;
        }
        let (labels, vals) = parse_series(def)?;
        if vals.len() > 1 && matches!(cmd.kind, EvalKind::Instant { .. }) && cmd.range_vector.is_none() {
            return Err("expecting multiple values in instant evaluation not allowed".into());
        }
        pos += 1;
        // A later line for the same series replaces the earlier one.
        cmd.expected.retain(|e| e.labels.as_ref() != Some(&labels));
        cmd.expected.push(Expected {
            labels: Some(labels),
            vals,
            pos,
        });
        j += 1;
    }
    Ok((cmd, j))
}
