use super::*;

/// (text, amount, currency, period) for the first amount in the text.
fn first(text: &str) -> Option<(f64, Option<&'static str>, Option<Period>)> {
    amounts(text)
        .into_iter()
        .next()
        .map(|m| (m.amount, m.currency, m.period))
}

#[test]
fn amounts_in_five_languages_parse_with_currency_and_period() {
    use Period::*;
    let table: &[(&str, f64, Option<&str>, Option<Period>)] = &[
        ("$3k/mo", 3000.0, Some("USD"), Some(Month)),
        ("about $2,500 a month", 2500.0, Some("USD"), Some(Month)),
        ("$1.5k per month", 1500.0, Some("USD"), Some(Month)),
        ("2000 USD monthly", 2000.0, Some("USD"), Some(Month)),
        ("USD 24,000 a year", 24000.0, Some("USD"), Some(Year)),
        ("we can spend about 2500 a month", 2500.0, None, Some(Month)),
        ("3 grand", 3000.0, None, None),
        ("2.500 € al mes", 2500.0, Some("EUR"), Some(Month)),
        ("unos 3.000 euros por mes", 3000.0, Some("EUR"), Some(Month)),
        ("1,5k€", 1500.0, Some("EUR"), None),
        ("R$ 3 mil", 3000.0, Some("BRL"), None),
        ("uns R$ 80 mil por mês", 80000.0, Some("BRL"), Some(Month)),
        ("5 mil reais por mês", 5000.0, Some("BRL"), Some(Month)),
        ("2.500 € im Monat", 2500.0, Some("EUR"), Some(Month)),
        ("3 Tsd. Euro pro Monat", 3000.0, Some("EUR"), Some(Month)),
        ("1,5 Mio. € im Jahr", 1_500_000.0, Some("EUR"), Some(Year)),
        ("5 000 € par mois", 5000.0, Some("EUR"), Some(Month)),
        ("2000€/mois", 2000.0, Some("EUR"), Some(Month)),
        ("£800 tops", 800.0, Some("GBP"), None),
        ("$500 one-time", 500.0, Some("USD"), Some(Once)),
    ];
    for (text, amount, currency, period) in table {
        assert_eq!(
            first(text),
            Some((*amount, *currency, *period)),
            "parsing {text:?}"
        );
    }
}

#[test]
fn counts_and_durations_are_not_money() {
    for text in [
        "8 people",
        "in 2 weeks",
        "40-50 DMs a week",
        "maybe 30 a week",
        "20 inspections booked a month",
        "we're a b2b shop with 15 techs",
        "next 6 months",
    ] {
        assert_eq!(amounts(text), vec![], "{text:?} is not money");
    }
}

#[test]
fn the_span_covers_the_leads_words_for_the_amount() {
    let text = "We've got about $2,500 a month set aside";
    let m = &amounts(text)[0];
    assert_eq!(&text[m.span.clone()], "$2,500 a month");
    let text = "Uns R$ 80 mil por mês.";
    let m = &amounts(text)[0];
    assert_eq!(&text[m.span.clone()], "R$ 80 mil por mês");
}

#[test]
fn monthly_converts_recurring_periods_only() {
    let m = |t: &str| amounts(t)[0].monthly();
    assert_eq!(m("$24k a year"), 2000.0);
    assert_eq!(m("$3k/mo"), 3000.0);
    assert_eq!(m("$500 one-time"), 500.0);
    assert_eq!(m("$1,200"), 1200.0);
}
