//! The cardinality guard: label values that come from tenants' data (tenant and project ids, model names a tenant's
//! agent may set) are admitted up to a cap per metric; the rest are folded into [`OTHER`] and counted in
//! `metric_label_values_folded_total{metric}`, so that a platform with a million projects still exports a bounded
//! number of series.

use std::collections::HashSet;

use parking_lot::RwLock;
use prometheus::IntCounter;

/// The label value that stands for every value beyond a metric's cap.
pub const OTHER: &str = "other";

/// How a label drawn from tenants' data is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelLimit {
    /// Not exported: the metrics labelled by it are not written at all.
    Off,
    /// Up to this many distinct values per metric; later values are folded into [`OTHER`].
    Capped(usize),
}

/// The distinct values one metric has admitted for a bounded label.
#[derive(Debug)]
pub(crate) struct BoundedLabel {
    limit: LabelLimit,
    admitted: RwLock<HashSet<String>>,
    folded: IntCounter,
}

impl BoundedLabel {
    pub(crate) fn new(limit: LabelLimit, folded: IntCounter) -> Self {
        Self { limit, admitted: RwLock::new(HashSet::new()), folded }
    }

    /// The value to export for `value`: itself while the cap allows (a value once admitted stays admitted),
    /// [`OTHER`] beyond it, `None` when the label is off.
    pub(crate) fn admit<'a>(&self, value: &'a str) -> Option<&'a str> {
        let LabelLimit::Capped(cap) = self.limit else { return None };
        if self.admitted.read().contains(value) {
            return Some(value);
        }
        let mut admitted = self.admitted.write();
        if admitted.contains(value) || admitted.len() < cap {
            admitted.insert(value.to_owned());
            return Some(value);
        }
        self.folded.inc();
        Some(OTHER)
    }

    /// Like [`admit`](Self::admit), for a gauge: a gauge's values cannot be summed into [`OTHER`], so a value beyond
    /// the cap is dropped (and counted as folded).
    pub(crate) fn admit_gauge<'a>(&self, value: &'a str) -> Option<&'a str> {
        self.admit(value).filter(|admitted| *admitted != OTHER || value == OTHER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(limit: LabelLimit) -> (BoundedLabel, IntCounter) {
        let folded = IntCounter::new("folded", "folded").unwrap();
        (BoundedLabel::new(limit, folded.clone()), folded)
    }

    #[test]
    fn values_beyond_the_cap_fold_into_other_and_are_counted() {
        let (bounded, folded) = label(LabelLimit::Capped(2));
        assert_eq!(bounded.admit("a"), Some("a"));
        assert_eq!(bounded.admit("b"), Some("b"));
        assert_eq!(bounded.admit("c"), Some(OTHER));
        assert_eq!(bounded.admit("a"), Some("a"), "an admitted value stays admitted");
        assert_eq!(bounded.admit("d"), Some(OTHER));
        assert_eq!(folded.get(), 2);
        assert_eq!(bounded.admit_gauge("e"), None, "a gauge drops what it cannot export");
        assert_eq!(bounded.admit_gauge("b"), Some("b"));
        assert_eq!(folded.get(), 3);
    }

    #[test]
    fn an_off_label_exports_nothing() {
        let (bounded, folded) = label(LabelLimit::Off);
        assert_eq!(bounded.admit("a"), None);
        assert_eq!(folded.get(), 0);
    }
}
