//! Completes the OpenAPI document the routes' annotations generate, with what no single annotation knows: the
//! shapes of `Run.output`, and the problem responses every operation can give (the layers and extractors in front
//! of each handler answer them), all as `application/problem+json`.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::problem::PROBLEM_JSON;
use crate::api::{Problem, ProblemType};
use crate::engine::{AgentRunOutput, PipelineOutput};

/// Everything the generated document lacks (see the module documentation).
pub(crate) fn complete(openapi: &mut OpenApi) {
    document_run_output(openapi);
    document_problems(openapi);
}

/// Gives `Run.output` its shapes: an agent run's [`AgentRunOutput`] or a workflow's [`PipelineOutput`], or null.
/// (`model::Run` keeps the field as JSON and knows nothing of the engine's output types, so the document is
/// completed here, where both are known.)
fn document_run_output(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    let mut schemas = vec![
        (AgentRunOutput::name().into_owned(), AgentRunOutput::schema()),
        (PipelineOutput::name().into_owned(), PipelineOutput::schema()),
    ];
    AgentRunOutput::schemas(&mut schemas);
    PipelineOutput::schemas(&mut schemas);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    if let Some(RefOr::T(Schema::Object(run))) = components.schemas.get_mut("Run") {
        let output = OneOfBuilder::new()
            .item(Ref::from_schema_name(AgentRunOutput::name()))
            .item(Ref::from_schema_name(PipelineOutput::name()))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("The outcome, once completed (a workflow's is saved after every step)"));
        run.properties.insert("output".to_owned(), output.into());
    }
}

/// What an operation takes, which decides the problems it can be answered with before its handler runs.
struct Shape {
    body: bool,
    path: bool,
    query_or_header: bool,
    authenticated: bool,
}

impl Shape {
    fn of(operation: &Operation) -> Self {
        let located = |place: ParameterIn| {
            operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
        };
        Shape {
            body: operation.request_body.is_some(),
            path: located(ParameterIn::Path),
            query_or_header: located(ParameterIn::Query) || located(ParameterIn::Header),
            authenticated: operation.security.as_ref().is_some_and(|s| !s.is_empty()),
        }
    }

    /// The statuses this operation can answer whatever its handler does: a body, path or query that does not
    /// parse (400), no or a refused credential (401, 403), an object not found (404), a body too large, of
    /// another type or invalid (413, 415, 422), a rate limit (429), and a backing service down or the server
    /// at capacity (503).
    fn problem_statuses(&self) -> Vec<u16> {
        let mut statuses = Vec::new();
        if self.body || self.path || self.query_or_header {
            statuses.push(400);
        }
        if self.authenticated {
            statuses.extend([401, 403]);
        }
        if self.path {
            statuses.push(404);
        }
        if self.body {
            statuses.extend([413, 415]);
        }
        if self.body || self.query_or_header {
            statuses.push(422);
        }
        statuses.extend([429, 503]);
        statuses
    }
}

/// The titles of the problem types with `status`, for a response's description.
fn titles(status: u16) -> String {
    let titles: Vec<&str> = ProblemType::ALL.iter().filter(|t| t.status() == status).map(|t| t.title()).collect();
    titles.join("; ")
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
    .chain(item.additional_operations.values_mut())
}

/// Whether an error response is (or, having no body, is taken to be) a [`Problem`]: `/ready`'s 503, say, is its
/// own `HealthResponse` and keeps it.
fn is_problem(response: &utoipa::openapi::Response) -> bool {
    let problem = format!("#/components/schemas/{}", Problem::name());
    response.content.values().all(|content| match content {
        RefOr::T(content) => match &content.schema {
            None => true,
            Some(RefOr::Ref(schema)) => schema.ref_location == problem,
            Some(RefOr::T(_)) => false,
        },
        RefOr::Ref(_) => false,
    })
}

/// Every operation documents the problems it can give, and every error response is `application/problem+json`
/// with the [`Problem`] schema (the annotations' `body = Problem` would say `application/json`).
fn document_problems(openapi: &mut OpenApi) {
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name(Problem::name()))).build();
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            for status in Shape::of(operation).problem_statuses() {
                operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
                    ResponseBuilder::new().description(titles(status)).content(PROBLEM_JSON, problem()).build().into()
                });
            }
            for (status, response) in &mut operation.responses.responses {
                if let (true, RefOr::T(response)) = (status.starts_with(['4', '5']), response)
                    && is_problem(response)
                {
                    response.content.clear();
                    response.content.insert(PROBLEM_JSON.to_owned(), problem().into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_a_layer_can_answer_has_a_problem_type() {
        for status in [400, 401, 403, 404, 413, 415, 422, 429, 503] {
            assert!(!titles(status).is_empty(), "{status}");
        }
        assert_eq!(titles(400), "Malformed request body; Invalid path parameter; Invalid query parameter");
    }

    #[test]
    fn only_problem_responses_are_rewritten() {
        use utoipa::openapi::{ContentBuilder, ResponseBuilder};
        let with = |schema: RefOr<Schema>| {
            ResponseBuilder::new()
                .description("x")
                .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
                .build()
        };
        assert!(is_problem(&with(Ref::from_schema_name("Problem").into())));
        assert!(is_problem(&ResponseBuilder::new().description("no body").build()));
        assert!(!is_problem(&with(Ref::from_schema_name("HealthResponse").into())), "/ready's 503 keeps its body");
    }

    #[test]
    fn a_public_operation_without_input_can_still_be_limited() {
        let shape = Shape { body: false, path: false, query_or_header: false, authenticated: false };
        assert_eq!(shape.problem_statuses(), [429, 503]);
        let shape = Shape { body: true, path: true, query_or_header: false, authenticated: true };
        assert_eq!(shape.problem_statuses(), [400, 401, 403, 404, 413, 415, 422, 429, 503]);
    }
}
