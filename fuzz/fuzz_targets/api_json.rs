//! The API's JSON request bodies, as the server reads them (the first byte picks which). Never a panic; what is
//! accepted writes back out as JSON that reads back the same (the SDK sends what the server reads); text that
//! validation accepts stays within its limits.
#![no_main]

use agentic_core::api::{
    AppendContextRequest, BackfillRequest, CreateApiKeyRequest, CreateDepartmentRequest, CreateKnowledgeBaseRequest,
    CreateProjectRequest, CreateScheduleRequest, CreateTenantRequest, CreateUserRequest, CreateWebhookRequest,
    DecisionRequest, ExecuteRequest, LoginRequest, PutContextRequest, SearchKnowledgeRequest, TriggerRequest,
    UpdateDepartmentRequest, UpdateProjectRequest, UpdateScheduleRequest, UpdateTenantRequest, UpdateUserRequest,
    UpdateWebhookRequest, WorkflowRequest,
};
use agentic_core::model::{validate_name, validate_text};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads `body` as `T`; when it is one, checks that it round-trips.
fn read<T: DeserializeOwned + Serialize>(body: &[u8]) {
    let Ok(request) = serde_json::from_slice::<T>(body) else { return };
    let written = serde_json::to_value(&request).expect("a request writes out");
    let again: T = serde_json::from_value(written.clone()).expect("what was written reads back");
    assert_eq!(serde_json::to_value(&again).expect("writes out again"), written);
}

macro_rules! bodies {
    ($pick:expr, $body:expr, $($ty:ty),+ $(,)?) => {{
        let readers: &[fn(&[u8])] = &[$(read::<$ty>),+];
        readers[usize::from($pick) % readers.len()]($body);
    }};
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    bodies!(
        pick,
        body,
        ExecuteRequest,
        WorkflowRequest,
        CreateProjectRequest,
        UpdateProjectRequest,
        CreateDepartmentRequest,
        UpdateDepartmentRequest,
        CreateUserRequest,
        UpdateUserRequest,
        CreateApiKeyRequest,
        CreateTenantRequest,
        UpdateTenantRequest,
        LoginRequest,
        DecisionRequest,
        CreateWebhookRequest,
        UpdateWebhookRequest,
        CreateScheduleRequest,
        UpdateScheduleRequest,
        TriggerRequest,
        BackfillRequest,
        PutContextRequest,
        AppendContextRequest,
        CreateKnowledgeBaseRequest,
        SearchKnowledgeRequest,
    );
    // The free-text rules every name and task goes through.
    if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(name) = validate_name("name", text, 200) {
            assert!(name.chars().count() <= 200 && !name.is_empty() && !name.contains('\n'));
        }
        if let Ok(task) = validate_text("task", text, 20_000) {
            assert!(task.chars().count() <= 20_000 && !task.contains('\0'));
        }
    }
});
