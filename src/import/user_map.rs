//! `--user-map FILE`: which scenario user each user of the log becomes.
//!
//! Logs name users by phone number, e-mail or database id: personal data
//! that should not land in a scenario file committed to a repository. So by
//! default the importer names them `user1`, `user2`, … in order of first
//! appearance, and the header says so. A map file (TOML, one
//! `"log id" = "scenario id"` per line) chooses the names instead:
//!
//! ```toml
//! "5511999990000" = "alice"
//! "ops@example.com" = "bob"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use super::error::ImportError;

/// Longest scenario user id accepted from a map file.
pub const MAX_ID_CHARS: usize = 64;

/// Reads a map file.
pub fn load(path: &Path) -> Result<BTreeMap<String, String>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parses a map file's text.
pub fn parse(path: &Path, text: &str) -> Result<BTreeMap<String, String>, ImportError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ImportError::UserMap {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
    let mut map = BTreeMap::new();
    for (log_id, value) in table {
        let Some(id) = value.as_str() else {
            return Err(ImportError::UserMap {
                path: path.to_path_buf(),
                message: format!("`{log_id}`: the scenario id must be a string"),
            });
        };
        if !is_safe_id(id) {
            return Err(ImportError::UserMap {
                path: path.to_path_buf(),
                message: format!("`{log_id}` = `{id}`: a scenario user id is 1 to {MAX_ID_CHARS} letters, digits and . _ - @ +"),
            });
        }
        map.insert(log_id, id.to_owned());
    }
    Ok(map)
}

/// Whether `id` is a user id a scenario accepts.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_@+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_names_scenario_users() {
        let map = parse(Path::new("m.toml"), "\"5511\" = \"alice\"\n").unwrap();
        assert_eq!(map.get("5511").map(String::as_str), Some("alice"));
    }

    #[test]
    fn an_unsafe_scenario_id_is_refused_naming_it() {
        let err = parse(Path::new("m.toml"), "\"5511\" = \"a b\"\n").unwrap_err();
        assert!(err.to_string().contains("`5511` = `a b`"), "{err}");
    }
}
