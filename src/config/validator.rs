//! The accumulator behind `Config::validate`: every problem at once, each
//! tied to the key that causes it.

use super::Issue;

/// Accumulates issues so one run reports everything wrong at once.
#[derive(Default)]
pub(crate) struct Validator {
    pub issues: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Validator {
    pub fn error(&mut self, key: &str, message: &str) {
        self.issues.push(Issue {
            key: key.into(),
            message: message.into(),
        });
    }
    pub fn warn(&mut self, key: &str, message: &str) {
        self.warnings.push(Issue {
            key: key.into(),
            message: message.into(),
        });
    }
    pub fn non_empty(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.error(key, "must not be empty");
        }
    }
    /// Ids are used as JSON keys and in reports: short, lowercase, unique.
    pub fn id(&mut self, key: &str, id: &str, seen: &mut std::collections::HashSet<String>) {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.error(key, "must be a non-empty snake_case id (a-z, 0-9, _)");
        } else if !seen.insert(id.to_string()) {
            self.error(key, &format!("duplicate id \"{id}\""));
        }
    }
}
