//! Quiet hours in the lead's time zone: no follow-up lands at night.
//!
//! The zone comes from the WhatsApp number's country code where Setter knows
//! it (one zone per code: the most populous), else `[followups] timezone`.
//! A step due in quiet hours waits for the next allowed minute — unless that
//! falls outside the platform's window, and then it is skipped with the
//! reason (the earlier allowed minute has already passed).

use chrono::{NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Country calling code → the zone most of its people live in. Longest
/// prefixes first, so "351" (Portugal) wins over "35".
const ZONES: &[(&str, Tz)] = &[
    ("351", chrono_tz::Europe::Lisbon),
    ("353", chrono_tz::Europe::Dublin),
    ("972", chrono_tz::Asia::Jerusalem),
    ("971", chrono_tz::Asia::Dubai),
    ("34", chrono_tz::Europe::Madrid),
    ("33", chrono_tz::Europe::Paris),
    ("39", chrono_tz::Europe::Rome),
    ("41", chrono_tz::Europe::Zurich),
    ("43", chrono_tz::Europe::Vienna),
    ("44", chrono_tz::Europe::London),
    ("49", chrono_tz::Europe::Berlin),
    ("52", chrono_tz::America::Mexico_City),
    ("54", chrono_tz::America::Argentina::Buenos_Aires),
    ("55", chrono_tz::America::Sao_Paulo),
    ("56", chrono_tz::America::Santiago),
    ("57", chrono_tz::America::Bogota),
    ("61", chrono_tz::Australia::Sydney),
    ("91", chrono_tz::Asia::Kolkata),
    ("1", chrono_tz::America::New_York),
];

/// The lead's zone: from a WhatsApp number, else `fallback`.
pub(crate) fn zone_for(phone: Option<&str>, fallback: Tz) -> Tz {
    let digits = phone.map(|p| p.trim_start_matches('+')).unwrap_or("");
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return fallback;
    }
    ZONES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
        .map_or(fallback, |(_, tz)| *tz)
}

/// When a message may go out at or after `at` (ms): `at` itself outside
/// quiet hours, else the end of the quiet period in `tz`.
pub(crate) fn next_allowed(at: i64, tz: Tz, start: NaiveTime, end: NaiveTime) -> i64 {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(at) else {
        return at;
    };
    let local = utc.with_timezone(&tz);
    let time = local.time();
    let quiet = if start <= end {
        time >= start && time < end
    } else {
        time >= start || time < end // across midnight, e.g. 21:00–08:00
    };
    if !quiet {
        return at;
    }
    let mut day = local.date_naive();
    if start > end && time >= start {
        day = day.succ_opt().unwrap_or(day);
    }
    // The end of quiet hours that day, in the zone (DST-safe: the earliest
    // real instant at or after that wall time).
    let wall = day.and_time(end);
    let resolved = tz.from_local_datetime(&wall).earliest().or_else(|| {
        tz.from_local_datetime(&(wall + chrono::Duration::hours(1)))
            .earliest()
    });
    resolved.map_or(at, |t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn a_step_at_night_waits_for_the_morning_across_midnight() {
        let madrid = chrono_tz::Europe::Madrid;
        // 23:30 in Madrid (UTC+1 in January) → 08:00 next day.
        let at = ms("2026-01-15T22:30:00Z");
        assert_eq!(
            next_allowed(at, madrid, t(21, 0), t(8, 0)),
            ms("2026-01-16T07:00:00Z")
        );
        // 06:00 → 08:00 the same day; 12:00 is not quiet.
        assert_eq!(
            next_allowed(ms("2026-01-16T05:00:00Z"), madrid, t(21, 0), t(8, 0)),
            ms("2026-01-16T07:00:00Z")
        );
        let noon = ms("2026-01-16T11:00:00Z");
        assert_eq!(next_allowed(noon, madrid, t(21, 0), t(8, 0)), noon);
    }

    #[test]
    fn quiet_hours_follow_a_dst_change() {
        let ny = chrono_tz::America::New_York;
        // The night clocks spring forward (2026-03-08): 07:00 EDT is 11:00 UTC.
        let at = ms("2026-03-08T04:00:00Z"); // 23:00 EST on the 7th
        assert_eq!(
            next_allowed(at, ny, t(21, 0), t(7, 0)),
            ms("2026-03-08T11:00:00Z")
        );
        // A week earlier, 07:00 EST is 12:00 UTC.
        let before = ms("2026-03-01T04:00:00Z");
        assert_eq!(
            next_allowed(before, ny, t(21, 0), t(7, 0)),
            ms("2026-03-01T12:00:00Z")
        );
    }

    #[test]
    fn the_zone_comes_from_the_country_code() {
        let utc = chrono_tz::UTC;
        assert_eq!(
            zone_for(Some("5511999998888"), utc),
            chrono_tz::America::Sao_Paulo
        );
        assert_eq!(
            zone_for(Some("+351912345678"), utc),
            chrono_tz::Europe::Lisbon
        );
        assert_eq!(
            zone_for(Some("16505551234"), utc),
            chrono_tz::America::New_York
        );
        assert_eq!(zone_for(Some("IGSID-123"), utc), utc);
        assert_eq!(zone_for(None, utc), utc);
    }
}
