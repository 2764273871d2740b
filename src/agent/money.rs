//! Money in the lead's own words, parsed in code: amount, currency and period
//! in the formats leads write in English, Spanish, Portuguese, German and
//! French (`$3k/mo`, `2.500 €`, `R$ 3 mil`, `5 000 € par mois`). A small model
//! moves numbers between fields ("we do 45k a month" → budget), so what an
//! amount *is* — a budget, revenue, a sign-off threshold — is read from the
//! words around it (see [`super::budget`]), never taken from the model.

use std::ops::Range;

/// How often an amount is paid or earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Once,
    Week,
    Month,
    Quarter,
    Year,
}

impl Period {
    /// Months per period (`None` for a one-off amount).
    fn months(self) -> Option<f64> {
        match self {
            Period::Once => None,
            Period::Week => Some(12.0 / 52.0),
            Period::Month => Some(1.0),
            Period::Quarter => Some(3.0),
            Period::Year => Some(12.0),
        }
    }
}

/// One amount of money found in a text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Money {
    pub amount: f64,
    /// ISO 4217 code, when the text names the currency.
    pub currency: Option<&'static str>,
    pub period: Option<Period>,
    /// Byte range of the whole phrase (currency, amount, period) in the text.
    pub span: Range<usize>,
}

impl Money {
    /// The amount per month when a recurring period is stated, else as stated.
    pub fn monthly(&self) -> f64 {
        match self.period.and_then(Period::months) {
            Some(m) => self.amount / m,
            None => self.amount,
        }
    }
}

/// Currency marks written before an amount, longest first (`R$` before `$`).
const BEFORE: &[(&str, &str)] = &[
    ("us$", "USD"),
    ("r$", "BRL"),
    ("c$", "CAD"),
    ("a$", "AUD"),
    ("mx$", "MXN"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("usd", "USD"),
    ("eur", "EUR"),
    ("gbp", "GBP"),
    ("chf", "CHF"),
    ("brl", "BRL"),
];

/// Currency words or marks written after an amount.
const AFTER: &[(&str, &str)] = &[
    ("€", "EUR"),
    ("$", "USD"),
    ("£", "GBP"),
    ("usd", "USD"),
    ("dollars", "USD"),
    ("dollar", "USD"),
    ("dólares", "USD"),
    ("dolares", "USD"),
    ("bucks", "USD"),
    ("eur", "EUR"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("gbp", "GBP"),
    ("pounds", "GBP"),
    ("reais", "BRL"),
    ("brl", "BRL"),
    ("chf", "CHF"),
    ("franken", "CHF"),
    ("pesos", "MXN"),
    ("mxn", "MXN"),
];

/// Multipliers after a number: `3k`, `3 mil`, `3 Tsd.`, `1,5 Mio`.
const MULTIPLIERS: &[(&str, f64)] = &[
    ("k", 1e3),
    ("mil", 1e3),
    ("mille", 1e3),
    ("tsd", 1e3),
    ("tausend", 1e3),
    ("grand", 1e3),
    ("m", 1e6),
    ("mm", 1e6),
    ("mio", 1e6),
    ("million", 1e6),
    ("millions", 1e6),
    ("millones", 1e6),
    ("millón", 1e6),
    ("milhões", 1e6),
    ("milhão", 1e6),
];

/// Period phrases, matched right after the amount (`/` reads as "per").
const PERIODS: &[(&str, Period)] = &[
    ("per month", Period::Month),
    ("per mo", Period::Month),
    ("per m", Period::Month),
    ("a month", Period::Month),
    ("a mo", Period::Month),
    ("monthly", Period::Month),
    ("every month", Period::Month),
    ("per mes", Period::Month),
    ("al mes", Period::Month),
    ("por mes", Period::Month),
    ("mensuales", Period::Month),
    ("mensual", Period::Month),
    ("per mês", Period::Month),
    ("por mês", Period::Month),
    ("ao mês", Period::Month),
    ("mensais", Period::Month),
    ("mensal", Period::Month),
    ("im monat", Period::Month),
    ("pro monat", Period::Month),
    ("per monat", Period::Month),
    ("monatlich", Period::Month),
    ("par mois", Period::Month),
    ("per mois", Period::Month),
    ("mensuels", Period::Month),
    ("mensuel", Period::Month),
    ("al mese", Period::Month),
    ("mensili", Period::Month),
    ("per year", Period::Year),
    ("per yr", Period::Year),
    ("a year", Period::Year),
    ("annually", Period::Year),
    ("yearly", Period::Year),
    ("per annum", Period::Year),
    ("al año", Period::Year),
    ("por año", Period::Year),
    ("anuales", Period::Year),
    ("anual", Period::Year),
    ("ao ano", Period::Year),
    ("por ano", Period::Year),
    ("anuais", Period::Year),
    ("im jahr", Period::Year),
    ("pro jahr", Period::Year),
    ("per jahr", Period::Year),
    ("jährlich", Period::Year),
    ("par an", Period::Year),
    ("per an", Period::Year),
    ("par année", Period::Year),
    ("annuel", Period::Year),
    ("all'anno", Period::Year),
    ("per week", Period::Week),
    ("per wk", Period::Week),
    ("a week", Period::Week),
    ("weekly", Period::Week),
    ("a la semana", Period::Week),
    ("por semana", Period::Week),
    ("semanal", Period::Week),
    ("pro woche", Period::Week),
    ("wöchentlich", Period::Week),
    ("par semaine", Period::Week),
    ("per quarter", Period::Quarter),
    ("a quarter", Period::Quarter),
    ("quarterly", Period::Quarter),
    ("one-time", Period::Once),
    ("one time", Period::Once),
    ("upfront", Period::Once),
    ("einmalig", Period::Once),
];

/// Every amount of money in `text`: a number with a currency, a multiplier
/// (`3k`) or a period right after it (`2500 a month`); bare counts ("8
/// people", "2 weeks") are not money.
pub(crate) fn amounts(text: &str) -> Vec<Money> {
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths (rare letters); then offsets would
    // not map back, so read the text as written.
    let hay = if lower.len() == text.len() {
        lower
    } else {
        text.to_string()
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = next_digit(&hay, at) {
        let (value, end) = number(&hay, start);
        at = end.max(start + 1);
        if let Some(m) = money_at(&hay, start, end, value) {
            at = at.max(m.span.end);
            out.push(m);
        }
    }
    out
}

fn next_digit(hay: &str, from: usize) -> Option<usize> {
    let skip_word_tail = |i: usize| {
        // A digit inside a word ("b2b", "x10") is not an amount's start, but
        // one after a currency code ("usd2000") is.
        let before = &hay[..i];
        before.chars().next_back().is_some_and(char::is_alphabetic)
            && !["usd", "eur", "gbp", "chf", "brl"]
                .iter()
                .any(|c| before.ends_with(c))
    };
    hay[from..]
        .char_indices()
        .map(|(i, c)| (from + i, c))
        .find(|&(i, c)| c.is_ascii_digit() && !skip_word_tail(i))
        .map(|(i, _)| i)
}

/// The number starting at `start` and the byte just after it. Separators:
/// `2,500`, `2.500`, `2'500`, `5 000` are thousands; `2.5`, `1,5` decimals.
fn number(hay: &str, start: usize) -> (f64, usize) {
    let bytes = hay.as_bytes();
    let mut end = start;
    let mut raw = String::new();
    while end < bytes.len() {
        let c = bytes[end];
        let sep = matches!(c, b',' | b'.' | b'\'' | b' ');
        let next_digit = bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() {
            raw.push(c as char);
        } else if sep && next_digit && !raw.is_empty() {
            // A space only groups thousands: "5 000", not "8 30".
            let group = bytes[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if c == b' ' && (group != 3 || raw.len() > 3) {
                break;
            }
            raw.push(c as char);
        } else {
            break;
        }
        end += 1;
    }
    (resolve_separators(&raw), end)
}

fn resolve_separators(raw: &str) -> f64 {
    let digits_only = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let last = raw.rfind([',', '.']);
    let cleaned = match last {
        None => digits_only(raw),
        Some(p) => {
            let sep = raw.as_bytes()[p];
            let tail = raw.len() - p - 1;
            let same_sep_twice = raw[..p].contains(sep as char);
            let other_sep_before = raw[..p].contains([',', '.']);
            if tail == 3 && !other_sep_before || same_sep_twice {
                digits_only(raw)
            } else {
                format!("{}.{}", digits_only(&raw[..p]), &raw[p + 1..])
            }
        }
    };
    cleaned.parse().unwrap_or(0.0)
}

/// The money phrase around the number at `start..end`, if it is money.
fn money_at(hay: &str, start: usize, end: usize, value: f64) -> Option<Money> {
    let (currency_before, phrase_start) = currency_before(hay, start);
    let mut pos = end;
    let mut amount = value;
    let mut scaled = false;
    if let Some((factor, after)) = word_after(hay, pos, MULTIPLIERS) {
        amount *= factor;
        pos = after;
        scaled = true;
    }
    let mut currency = currency_before;
    if let Some((code, after)) = word_after(hay, pos, AFTER) {
        currency = currency.or(Some(code));
        pos = after;
    }
    let period = period_after(hay, pos).map(|(p, after)| {
        pos = after;
        p
    });
    // "30 a week" is a count; "2500 a month" reads as money.
    let priced = period.is_some() && amount >= 100.0;
    (currency.is_some() || scaled || priced).then_some(Money {
        amount,
        currency,
        period,
        span: phrase_start..pos,
    })
}

fn currency_before(hay: &str, start: usize) -> (Option<&'static str>, usize) {
    let before = hay[..start].trim_end();
    for (mark, code) in BEFORE {
        if let Some(rest) = before.strip_suffix(mark) {
            let word_mark = mark.chars().all(char::is_alphabetic);
            let bounded = rest
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            if !word_mark || bounded {
                return (Some(code), rest.len());
            }
        }
    }
    (None, start)
}

/// A whole word (or mark) from `table` right after `pos`, skipping spaces.
fn word_after<T: Copy>(hay: &str, pos: usize, table: &[(&str, T)]) -> Option<(T, usize)> {
    let rest = &hay[pos..];
    let trimmed = rest.trim_start();
    let offset = pos + rest.len() - trimmed.len();
    table.iter().find_map(|(word, value)| {
        let tail = trimmed.strip_prefix(word)?;
        let ends_word = !word.chars().all(char::is_alphabetic)
            || tail.chars().next().is_none_or(|c| !c.is_alphabetic());
        let mut after = offset + word.len();
        // "3 Tsd." / "1,5 Mio." keep their dot.
        if ends_word && tail.starts_with('.') && word.len() >= 3 {
            after += 1;
        }
        ends_word.then_some((*value, after))
    })
}

/// A period phrase right after `pos` ("/mo", "a month", "al mes").
fn period_after(hay: &str, pos: usize) -> Option<(Period, usize)> {
    let rest = &hay[pos..];
    let trimmed = rest.trim_start();
    let offset = pos + rest.len() - trimmed.len();
    let (slash, body) = match trimmed.strip_prefix('/') {
        Some(b) => (true, b.trim_start()),
        None => (false, trimmed),
    };
    let body_offset = offset + trimmed.len() - body.len();
    PERIODS.iter().find_map(|(phrase, period)| {
        let unit = phrase.strip_prefix("per ").filter(|_| slash);
        let wanted = unit.unwrap_or(phrase);
        let tail = body.strip_prefix(wanted)?;
        let ends_word = tail.chars().next().is_none_or(|c| !c.is_alphabetic());
        (ends_word && (slash == unit.is_some())).then_some((*period, body_offset + wanted.len()))
    })
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
