//! Profiles: where the platform is and which credential to use, kept in a TOML file
//! (`~/.config/agentic/config.toml` unless `--config` / `AGENTIC_CONFIG` says otherwise), written readable only by
//! its owner. `--url` / `AGENTIC_URL` and `--api-key` / `AGENTIC_API_KEY` override the profile's.
//!
//! ```toml
//! default_profile = "default"
//!
//! [profiles.default]
//! url = "http://127.0.0.1:9000"
//! api_key = "agk_…"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The config file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The profile used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default_profile: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub(crate) profiles: BTreeMap<String, Profile>,
}

/// One platform and its credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// The platform's URL.
    pub(crate) url: String,
    /// An API key.
    pub(crate) api_key: String,
}

/// Where the config file is: the given path, else under `$XDG_CONFIG_HOME`, else under `~/.config`.
pub(crate) fn path(given: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => return Err(CliError::Config("no config file: set AGENTIC_CONFIG or HOME".into())),
        },
    };
    Ok(base.join("agentic").join("config.toml"))
}

impl Config {
    /// The file at `path`, or an empty config if there is none.
    pub(crate) fn load(path: &Path) -> Result<Config, CliError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(error) => Err(CliError::Config(format!("{}: {error}", path.display()))),
        }
    }

    /// Writes the file, readable and writable only by its owner (it holds API keys).
    pub(crate) fn save(&self, path: &Path) -> Result<(), CliError> {
        let fail = |e: &dyn std::fmt::Display| CliError::Config(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| fail(&e))?;
        // Written to a private file beside it, then renamed over it: the keys are never in a file others may read,
        // and a crash midway leaves the old file whole.
        let temporary = path.with_extension(format!("toml.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|mut file| {
            std::io::Write::write_all(&mut file, text.as_bytes())?;
            file.sync_all()
        });
        if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, path)) {
            let _ = std::fs::remove_file(&temporary);
            return Err(fail(&error));
        }
        Ok(())
    }

    /// The name of the profile to use: the one asked for, else the default, else `default`.
    pub(crate) fn profile_name(&self, asked: Option<&str>) -> String {
        asked.map(str::to_owned).or_else(|| self.default_profile.clone()).unwrap_or_else(|| "default".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_config_reads_back_and_is_private() {
        let dir = std::env::temp_dir().join(format!("agentic-cli-config-{}", std::process::id()));
        let path = dir.join("nested").join("config.toml");
        let mut config = Config::load(&path).unwrap();
        assert!(config.profiles.is_empty(), "no file is an empty config");
        config.profiles.insert("work".into(), Profile { url: "http://h:9000".into(), api_key: "agk_x".into() });
        config.default_profile = Some("work".into());
        config.save(&path).unwrap();
        let read = Config::load(&path).unwrap();
        assert_eq!((read.profile_name(None), read.profiles["work"].url.as_str()), ("work".into(), "http://h:9000"));
        assert_eq!(read.profile_name(Some("other")), "other");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // An existing file others could read is replaced by a private one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            read.save(&path).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "profiles = 3").unwrap();
        assert!(matches!(Config::load(&path), Err(CliError::Config(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
