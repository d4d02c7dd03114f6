//! Typed identifiers.
//!
//! Every entity has its own id newtype over a UUID v7, so a `UserId` can never be passed where a `TenantId` is
//! expected, and ids sort by creation time (which the stores use for cursor pagination).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (for example one read back from a database).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl $name {
            /// The smallest id made at `at` or later (UUID v7 ids order by the millisecond they were made in), for
            /// "everything made before `at`" as `id < floor_at(at)`.
            pub fn floor_at(at: chrono::DateTime<chrono::Utc>) -> Self {
                let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0).min((1 << 48) - 1);
                let mut bytes = [0_u8; 16];
                bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
                bytes[6] = 0x70; // version 7
                bytes[8] = 0x80; // RFC 9562 variant
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

typed_id!(
    /// Identifies a tenant (an organisation using the platform).
    TenantId
);
typed_id!(
    /// Identifies a user within a tenant.
    UserId
);
typed_id!(
    /// Identifies an API key.
    ApiKeyId
);
typed_id!(
    /// Identifies a department within a tenant.
    DepartmentId
);
typed_id!(
    /// Identifies a project within a tenant.
    ProjectId
);
typed_id!(
    /// Identifies a recorded LLM call cost.
    CostRecordId
);
typed_id!(
    /// Identifies a budget reservation.
    ReservationId
);
typed_id!(
    /// Identifies an event.
    EventId
);
typed_id!(
    /// Identifies a run (of an agent or a workflow).
    RunId
);
typed_id!(
    /// Identifies an approval request.
    ApprovalId
);
typed_id!(
    /// Identifies a webhook endpoint (a URL subscribed to event types).
    WebhookId
);
typed_id!(
    /// Identifies one delivery: one event to one endpoint, however many attempts it takes.
    DeliveryId
);
typed_id!(
    /// Identifies a schedule (what starts runs at its fire times).
    ScheduleId
);
typed_id!(
    /// Identifies a knowledge base (a tenant's searchable documents).
    KnowledgeBaseId
);
typed_id!(
    /// Identifies a document in a knowledge base.
    DocumentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = TenantId::new();
        let b = TenantId::new();
        assert!(a < b);
        let parsed: TenantId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }

    #[test]
    fn garbage_does_not_parse() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
